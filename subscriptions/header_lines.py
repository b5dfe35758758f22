"""Custom headers written as `Name: value` lines, as the Workbench's text area shows them (pure, no Django)."""

from outbound.masking import masked_headers


class HeaderLinesError(ValueError):
    pass


def headers_from_lines(text: str) -> dict[str, str]:
    """A dict of the non-blank lines; a line without a colon or a name given twice is refused."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not name:
            raise HeaderLinesError(f"line {number}: expected Name: value")
        if name in headers:
            raise HeaderLinesError(f"{name.lower()!r} is given more than once (header names are case-insensitive)")
        headers[name] = value.strip()
    return headers


def headers_to_lines(headers: dict[str, str]) -> str:
    """The lines of stored headers, secret-looking values masked (writing the mask back keeps the value)."""
    return "\n".join(f"{name}: {value}" for name, value in masked_headers(headers).items())
