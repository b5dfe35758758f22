"""OAuth client-credentials tokens: fetched once per expiry per credential (a lock), cached encrypted."""

import json
import secrets
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache

from config.encryption import decrypt, encrypt
from config.held_keys import held_key_free
from config.shared_cache import CACHE_ERRORS, shared_cache_unreachable, shared_cache_usable
from credentials.models import Credential
from credentials.tls import credential_client_tls
from outbound.client import send

# Past the fetch's own deadline: a lock never expires under a fetch still running.
LOCK_MARGIN_SECONDS = 5


class TokenError(Exception):
    """The token endpoint did not give a token; the message names no secret. `status` is the endpoint's answer (None
    when there was none); `proxy_failed` when the egress proxy, not the endpoint, failed."""

    def __init__(self, message: str, *, status: int | None = None, proxy_failed: bool = False):
        super().__init__(message)
        self.status = status
        self.proxy_failed = proxy_failed


def _cache_key(credential: Credential, tls_credential: Credential | None) -> str:
    # The credentials' change times are part of the key: editing a credential retires its token. A token fetched
    # with a client certificate may be bound to it, so each TLS credential has its own.
    key = f"outflow:oauth-token:{credential.pk}:{credential.updated_at.timestamp()}"
    if tls_credential is not None:
        key += f":tls:{tls_credential.pk}:{tls_credential.updated_at.timestamp()}"
    return key


def _token_request(credential: Credential) -> tuple[str, str, dict[str, str], bytes | None]:
    parameters = {
        "grant_type": "client_credentials",
        "client_id": credential.settings["client_id"],
        "client_secret": credential.secrets["client_secret"],
    }
    if credential.settings.get("scope"):
        parameters["scope"] = credential.settings["scope"]
    url = credential.settings["token_url"]
    headers = {"accept": "application/json"}
    if credential.settings.get("request_scheme") == "url":
        parts = urlsplit(url)
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *parameters.items()])
        return "GET", urlunsplit(parts._replace(query=query)), headers, None
    headers["content-type"] = "application/x-www-form-urlencoded"
    return "POST", url, headers, urlencode(parameters).encode()


def _fetch(credential: Credential, tls_credential: Credential | None) -> tuple[str, float]:
    method, url, headers, body = _token_request(credential)
    exchange = send(
        method=method,
        url=url,
        headers=headers,
        body=body,
        timeout=settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS,
        tls=credential_client_tls(tls_credential),
    )
    if exchange.error:
        raise TokenError(f"token endpoint unreachable: {exchange.error}", proxy_failed=exchange.proxy_failed)
    try:
        answer = json.loads(exchange.body)
    except ValueError:
        answer = None
    if not 200 <= exchange.status < 300:
        detail = f" ({answer['error']})" if isinstance(answer, dict) and isinstance(answer.get("error"), str) else ""
        raise TokenError(f"token endpoint answered {exchange.status}{detail}", status=exchange.status)
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise TokenError("token endpoint answer has no access_token", status=exchange.status)
    lifetime = float(settings.OUTFLOW_OAUTH_TOKEN_TTL_SECONDS)
    expires_in = answer.get("expires_in")
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
        lifetime = min(lifetime, float(expires_in))
    return answer["access_token"], lifetime


def _lock_seconds() -> float:
    return settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS + LOCK_MARGIN_SECONDS


def oauth_token_seconds() -> float:
    """The longest `oauth_token` takes: waiting out another worker's fetch (up to its lock's life), then its own."""
    return _lock_seconds() + settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS


def oauth_token_try(*, credential: Credential, tls_credential: Credential | None = None) -> dict:
    """Fetch a token, bypassing the cache, and answer how the token endpoint answered; never the token."""
    try:
        _fetch(credential, tls_credential)
    except TokenError as error:
        return {"ok": False, "status": error.status, "message": str(error)}
    return {"ok": True, "status": 200, "message": "the token endpoint gave a token"}


def oauth_token(*, credential: Credential, tls_credential: Credential | None = None) -> str:
    """The cached token, or a new one; concurrent callers wait for the one fetch in flight. While the shared cache
    is unreachable each call fetches its own: more token requests, but no delivery waits for Redis."""
    if not shared_cache_usable():
        return _fetch(credential, tls_credential)[0]
    try:
        return _shared_token(credential, tls_credential)
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="the OAuth token cache (a token is fetched per call)")
        token, _ = _fetch(credential, tls_credential)
        return token


def _shared_token(credential: Credential, tls_credential: Credential | None) -> str:
    key = _cache_key(credential, tls_credential)
    lock_seconds = _lock_seconds()
    deadline = time.monotonic() + lock_seconds
    owner = secrets.token_hex(8)
    while True:
        cached = cache.get(key)
        if cached is not None:
            return decrypt(cached)
        if cache.add(f"{key}:lock", owner, timeout=int(lock_seconds) + 1):
            try:
                # The holder before us may have cached a token between our read and our lock.
                cached = cache.get(key)
                if cached is not None:
                    return decrypt(cached)
                token, lifetime = _fetch(credential, tls_credential)
                if lifetime >= 1:
                    cache.set(key, encrypt(token), timeout=int(lifetime))
                return token
            finally:
                held_key_free(key=f"{key}:lock", owner=owner)
        if time.monotonic() > deadline:
            raise TokenError("timed out waiting for another worker's token fetch")
        time.sleep(0.02)


def oauth_token_drop(*, credential: Credential, tls_credential: Credential | None = None) -> None:
    """Forget the cached token (the endpoint refused it), so the next attempt fetches a new one."""
    if not shared_cache_usable():
        return
    try:
        cache.delete(_cache_key(credential, tls_credential))
    except CACHE_ERRORS as error:
        shared_cache_unreachable(error, what="dropping a refused OAuth token (it expires instead)")
