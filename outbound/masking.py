"""Masking of secret-looking header and query values wherever they are shown or stored (pure, no Django)."""

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "********"
_SENSITIVE_NAMES = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-amz-security-token",
    "webhook-signature",
    "x-amz-signature",
    "x-amz-credential",
    # Azure Functions' `code` and an OAuth authorization code; as a word of a longer name it is rarely secret.
    "code",
}
_SENSITIVE_PARTS = (
    *("token", "secret", "key", "password", "signature", "auth", "credential", "session"),
    *("pass", "hmac", "jwt", "private"),
)
# Too short to look for inside other words ("sig" in "design"): only as a whole word of a name (Azure SAS `sig`).
_SENSITIVE_WORDS = frozenset({"sig", "pwd", "otp", "sas"})
_WORD_BREAK = re.compile(r"[-_.]")


def is_sensitive(name: str) -> bool:
    # Every attempt's request log masks the same few header names: those of ordinary length are remembered
    # (7-8 -> 2-4 us per set of headers). Longer ones, which only an endpoint's odd answer sends, are not kept.
    return _is_sensitive_cached(name) if len(name) <= _CACHED_NAME_LENGTH else _is_sensitive(name)


_CACHED_NAME_LENGTH = 64


def _is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in _SENSITIVE_NAMES
        or any(part in lowered for part in _SENSITIVE_PARTS)
        or not _SENSITIVE_WORDS.isdisjoint(_WORD_BREAK.split(lowered))
    )


_is_sensitive_cached = lru_cache(maxsize=4096)(_is_sensitive)


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: MASK if is_sensitive(name) else value for name, value in headers.items()}


def masked_url(url: str) -> str:
    """The URL with the values of sensitive query parameters (SigV4, tokens) masked."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (name, MASK if is_sensitive(name) else value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def headers_unmasked(headers: dict[str, str], *, stored: dict[str, str]) -> dict[str, str]:
    """Headers as written back by a client that read them masked: a masked value keeps the stored one."""
    return {name: stored.get(name, value) if value == MASK else value for name, value in headers.items()}
