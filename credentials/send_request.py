"""The Send Request step of an Action Flow: one request, with the deliveries' guard and authentication."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError

from config.json_bytes import json_bytes
from credentials.request_auth import CredentialError, request_authenticate
from credentials.selectors import credential_for_use, tls_credential_for_use
from credentials.tls import credential_client_tls
from outbound.client import header_value, send
from outbound.validation import header_errors, url_errors
from tenancy.interactive_calls import interactive_call
from tenancy.models import Environment


def _body(body, headers: dict[str, str]) -> tuple[bytes | None, dict[str, str]]:
    """Text is sent as it is (text/plain unless said), anything else as JSON (application/json unless said)."""
    if body is None:
        return None, headers
    has_type = header_value(headers, "content-type") is not None
    if isinstance(body, str):
        return body.encode(), headers if has_type else {**headers, "content-type": "text/plain; charset=utf-8"}
    encoded = json_bytes(body)
    return encoded, headers if has_type else {**headers, "content-type": "application/json"}


def _decoded(body: bytes, content_type: str):
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def request_send(
    *,
    environment: Environment,
    method: str,
    url: str,
    headers: dict[str, str],
    body,
    credential_id,
    tls_credential_id=None,
) -> dict:
    errors = {}
    if problems := url_errors(url, allow_private=settings.OUTFLOW_ALLOW_PRIVATE_TARGETS):
        errors["url"] = problems
    if problems := header_errors(headers, reserved_prefixes=(), json_content_type=False):
        errors["headers"] = problems
    try:
        credential = credential_for_use(environment=environment, credential_id=credential_id)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        tls_credential = tls_credential_for_use(environment=environment, credential_id=tls_credential_id)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    encoded, headers = _body(body, headers)
    with interactive_call(environment_id=environment.pk):
        if credential is not None:
            try:
                url, headers = request_authenticate(
                    credential=credential,
                    method=method,
                    url=url,
                    headers=headers,
                    body=encoded or b"",
                    tls_credential=tls_credential,
                )
            except CredentialError as error:
                return {"status": None, "headers": {}, "body": None, "duration_ms": 0, "error": str(error)}
        exchange = send(
            method=method,
            url=url,
            headers=headers,
            body=encoded,
            timeout=settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS,
            tls=credential_client_tls(tls_credential),
        )
    return {
        "status": exchange.status,
        "headers": exchange.headers,
        "body": _decoded(exchange.body, exchange.header("Content-Type") or "") if exchange.status else None,
        "duration_ms": exchange.duration_ms,
        "error": exchange.error,
    }
