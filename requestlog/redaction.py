"""What of a request or response body may be stored in the request log (pure, no Django)."""

REDACTED = "[redacted]"


def stored_body(body: bytes, *, keep: bool) -> str:
    if not keep:
        return REDACTED if body else ""
    # PostgreSQL text cannot hold NUL.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
