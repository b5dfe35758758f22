"""Rules for outgoing URLs and custom headers (pure, no database)."""

import re

from outbound.addresses import TargetRefused, check_url

MAX_HEADERS = 20
MAX_HEADER_VALUE_LENGTH = 4096
# Matched whole (fullmatch): "$" would also match before a trailing newline.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\t\x20-\x7e]*")
TRANSPORT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# A delivery's Standard Webhooks headers are Outflow's to set.
SUBSCRIPTION_RESERVED_PREFIXES = ("webhook-",)
# A delivery's body is always UTF-8 JSON, so its content type may only name JSON: plain, a +json suffix, or the
# JSON protocols of AWS service APIs (which a mapping speaks with an x-amz-target header).
JSON_MEDIA_TYPES = (
    "application/json",
    "application/*+json",
    "application/x-amz-json-1.0",
    "application/x-amz-json-1.1",
)
_JSON_CONTENT_TYPE = re.compile(
    r"application/(?:json|[a-z0-9][a-z0-9!#$&^_.+-]*\+json|x-amz-json-1\.[01])(?:[ \t]*;[ \t]*charset=\"?utf-8\"?)?",
    re.IGNORECASE,
)


def url_errors(url: str, *, allow_private: bool) -> list[str]:
    try:
        check_url(url, allow_private=allow_private)
    except TargetRefused as error:
        return [str(error)]
    return []


def header_errors(
    headers: dict[str, str],
    *,
    reserved_prefixes: tuple[str, ...] = SUBSCRIPTION_RESERVED_PREFIXES,
    json_content_type: bool = True,
) -> list[str]:
    """What is wrong with custom headers; `json_content_type` limits a content-type to JSON_MEDIA_TYPES."""
    errors = []
    if len(headers) > MAX_HEADERS:
        errors.append(f"at most {MAX_HEADERS} headers")
    lowered_names = [name.lower() for name in headers]
    for name in sorted({name for name in lowered_names if lowered_names.count(name) > 1}):
        errors.append(f"{name!r} is given more than once (header names are case-insensitive)")
    for name, value in headers.items():
        lowered = name.lower()
        if not _TOKEN.fullmatch(name):
            errors.append(f"{name!r} is not a valid header name")
        elif lowered in TRANSPORT_HEADERS or lowered.startswith(reserved_prefixes):
            errors.append(f"{name!r} is set by Outflow and cannot be overridden")
        if not _VALUE.fullmatch(value):
            errors.append(f"the value of {name!r} must be printable ASCII (no line breaks or control characters)")
        elif len(value) > MAX_HEADER_VALUE_LENGTH:
            errors.append(f"the value of {name!r} is longer than {MAX_HEADER_VALUE_LENGTH} characters")
        elif json_content_type and lowered == "content-type" and not _JSON_CONTENT_TYPE.fullmatch(value):
            errors.append(
                f"{name!r} must be a JSON media type ({', '.join(JSON_MEDIA_TYPES)}; optionally with charset=utf-8): "
                "the body is JSON"
            )
    return errors
