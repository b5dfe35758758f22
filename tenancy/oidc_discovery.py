"""The OpenID Connect provider's endpoints, read from its discovery document (OpenID Connect Discovery 1.0).

Fetched when first needed, with a timeout, and kept for OUTFLOW_OIDC_DISCOVERY_TTL_SECONDS in this process; a
provider that cannot be read is an error the sign-in pages show, not a failure to start.
"""

import dataclasses
import threading
import time

import requests
from django.conf import settings


class ProviderUnavailable(Exception):
    """The discovery document could not be fetched or does not describe the configured issuer."""


@dataclasses.dataclass(frozen=True)
class ProviderEndpoints:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


_lock = threading.Lock()
_cached: dict[str, tuple[float, ProviderEndpoints]] = {}


def sso_configured() -> bool:
    return bool(settings.OUTFLOW_OIDC_ISSUER and settings.OUTFLOW_OIDC_CLIENT_ID)


def provider_endpoints() -> ProviderEndpoints:
    issuer = settings.OUTFLOW_OIDC_ISSUER
    with _lock:
        cached = _cached.get(issuer)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    endpoints = _discover(issuer)
    with _lock:
        _cached[issuer] = (time.monotonic() + settings.OUTFLOW_OIDC_DISCOVERY_TTL_SECONDS, endpoints)
    return endpoints


def _discover(issuer: str) -> ProviderEndpoints:
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"could not read {url}: {error}") from error
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} is not a JSON object")
    # The document must name the issuer it was fetched for, or tokens from another issuer would pass (Discovery 4.3).
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable(f"{url} names issuer {document.get('issuer')!r}, not {issuer!r}")
    fields = [field.name for field in dataclasses.fields(ProviderEndpoints) if field.name != "issuer"]
    missing = [name for name in fields if not isinstance(document.get(name), str) or not document[name]]
    if missing:
        raise ProviderUnavailable(f"{url} lacks {', '.join(missing)}")
    return ProviderEndpoints(issuer=document["issuer"], **{name: document[name] for name in fields})


def mozilla_oidc_setting(name: str, *default):
    """mozilla-django-oidc's settings, with the provider's endpoints and Outflow's client in place of its own."""
    if name in _FROM_DISCOVERY:
        return getattr(provider_endpoints(), _FROM_DISCOVERY[name])
    if name == "OIDC_RP_CLIENT_ID":
        return settings.OUTFLOW_OIDC_CLIENT_ID
    if name == "OIDC_RP_CLIENT_SECRET":
        return settings.OUTFLOW_OIDC_CLIENT_SECRET
    return getattr(settings, name, *default)


_FROM_DISCOVERY = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
