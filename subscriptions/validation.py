"""Rules for outgoing URLs and custom headers (pure, no database)."""

import re

from outbound.addresses import TargetRefused, check_url

MAX_HEADERS = 20
MAX_HEADER_VALUE_LENGTH = 4096
# Matched whole (fullmatch): "$" would also match before a trailing newline.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\t\x20-\x7e]*")
TRANSPORT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# A delivery's content type and Standard Webhooks headers are Outflow's to set.
SUBSCRIPTION_RESERVED_HEADERS = TRANSPORT_HEADERS | {"content-type"}
SUBSCRIPTION_RESERVED_PREFIXES = ("webhook-",)


def url_errors(url: str, *, allow_private: bool) -> list[str]:
    try:
        check_url(url, allow_private=allow_private)
    except TargetRefused as error:
        return [str(error)]
    return []


def header_errors(
    headers: dict[str, str],
    *,
    reserved: frozenset[str] = SUBSCRIPTION_RESERVED_HEADERS,
    reserved_prefixes: tuple[str, ...] = SUBSCRIPTION_RESERVED_PREFIXES,
) -> list[str]:
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
        elif lowered in reserved or lowered.startswith(reserved_prefixes):
            errors.append(f"{name!r} is set by Outflow and cannot be overridden")
        if not _VALUE.fullmatch(value):
            errors.append(f"the value of {name!r} must be printable ASCII (no line breaks or control characters)")
        elif len(value) > MAX_HEADER_VALUE_LENGTH:
            errors.append(f"the value of {name!r} is longer than {MAX_HEADER_VALUE_LENGTH} characters")
    return errors
