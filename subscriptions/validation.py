"""Rules for outgoing URLs and custom headers (pure, no database)."""

import re

from outbound.addresses import TargetRefused, check_url

MAX_HEADERS = 20
MAX_HEADER_VALUE_LENGTH = 4096
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
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
    for name, value in headers.items():
        lowered = name.lower()
        if not _TOKEN.match(name):
            errors.append(f"{name!r} is not a valid header name")
        elif lowered in reserved or lowered.startswith(reserved_prefixes):
            errors.append(f"{name!r} is set by Outflow and cannot be overridden")
        if any(char in value for char in "\r\n\0"):
            errors.append(f"the value of {name!r} contains a line break or NUL")
        elif len(value) > MAX_HEADER_VALUE_LENGTH:
            errors.append(f"the value of {name!r} is longer than {MAX_HEADER_VALUE_LENGTH} characters")
    return errors
