"""Applying a saved credential to an outgoing request, last, over its final URL, headers and body."""

import base64
from urllib.parse import urlsplit

from credentials.aws_signing import aws_region_and_service, aws_sign
from credentials.models import Credential
from credentials.oauth import TokenError, oauth_token, oauth_token_drop, oauth_token_seconds
from outbound.client import without_headers


class CredentialError(Exception):
    """The credential could not be applied; the message names no secret. `proxy_failed` when the egress proxy, not the
    token endpoint, failed."""

    def __init__(self, message: str, *, proxy_failed: bool = False):
        super().__init__(message)
        self.proxy_failed = proxy_failed


def request_authenticate(
    *,
    credential: Credential,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    tls_credential: Credential | None = None,
) -> tuple[str, dict[str, str]]:
    """The URL and headers to send, authenticated by the credential; an OAuth token is fetched with the request's
    TLS credential (its client certificate, its CA certificates)."""
    if credential.type == Credential.Type.BASIC_AUTH:
        pair = f"{credential.settings['username']}:{credential.secrets['password']}".encode()
        return url, {
            **without_headers(headers, ["authorization"]),
            "authorization": "Basic " + base64.b64encode(pair).decode(),
        }
    if credential.type == Credential.Type.OAUTH_CLIENT_CREDENTIALS:
        try:
            token = oauth_token(credential=credential, tls_credential=tls_credential)
        except TokenError as error:
            raise CredentialError(f"OAuth: {error}", proxy_failed=error.proxy_failed) from error
        return url, {**without_headers(headers, ["authorization"]), "authorization": f"Bearer {token}"}
    return _aws(credential=credential, method=method, url=url, headers=headers, body=body)


def request_authenticate_seconds(*, credential: Credential | None) -> float:
    """The longest applying the credential can take: an OAuth token fetch, which may first wait on another's."""
    if credential is not None and credential.type == Credential.Type.OAUTH_CLIENT_CREDENTIALS:
        return oauth_token_seconds()
    return 0.0


def _aws(*, credential: Credential, method: str, url: str, headers: dict[str, str], body: bytes):
    inferred_region, inferred_service = aws_region_and_service(host=urlsplit(url).hostname or "")
    region = credential.settings.get("region") or inferred_region
    service = credential.settings.get("service") or inferred_service
    if not region or not service:
        raise CredentialError("AWS: the region and service cannot be inferred from the URL; set them on the credential")
    return aws_sign(
        method=method,
        url=url,
        headers=headers,
        body=body,
        access_key_id=credential.settings["access_key_id"],
        secret_access_key=credential.secrets["secret_access_key"],
        session_token=credential.secrets.get("session_token") or None,
        region=region,
        service=service,
        sign_query=bool(credential.settings.get("sign_query")),
    )


def request_refused(*, credential: Credential, status: int | None, tls_credential: Credential | None = None) -> None:
    """React to the endpoint's refusal: a 401 retires a cached OAuth token."""
    if status == 401 and credential.type == Credential.Type.OAUTH_CLIENT_CREDENTIALS:
        oauth_token_drop(credential=credential, tls_credential=tls_credential)
