"""`check`: try a saved credential without sending an event, and say what was found (never a secret or a token)."""

from dataclasses import dataclass

from django.utils import timezone

from credentials.models import Credential
from credentials.oauth import oauth_token_try
from credentials.tls import tls_check
from tenancy.interactive_calls import interactive_call

_NOTHING_TO_CHECK = {
    Credential.Type.BASIC_AUTH: "nothing to check without the endpoint: a username and password are sent as saved;"
    " Send test shows whether the endpoint accepts them",
    Credential.Type.AWS_SIGNED_REQUEST: "nothing to check without the endpoint: requests are signed locally;"
    " Send test shows whether AWS accepts the signature",
}


def credential_check(*, credential: Credential) -> dict:
    """`ok` is true or false where something was tried, null where there is nothing to try."""
    if credential.type == Credential.Type.OAUTH_CLIENT_CREDENTIALS:
        with interactive_call(environment_id=credential.environment_id):
            return oauth_token_try(credential=credential)
    if credential.type == Credential.Type.TLS:
        found = tls_check(
            certificate=credential.settings.get("certificate") or "",
            private_key=credential.secrets.get("private_key") or "",
            ca_certificates=credential.settings.get("ca_certificates") or "",
            now=timezone.now(),
        )
        return {**found, "message": _tls_message(found)}
    return {"ok": None, "message": _NOTHING_TO_CHECK[credential.type]}


def _tls_message(found: dict) -> str:
    if found["key_matches"] is False:
        return "the private key does not belong to the certificate"
    if not found["ok"]:
        return "a certificate has expired"
    if found["expires_at"]:
        return f"the key matches the certificate, which expires at {found['expires_at']}"
    return "the CA certificates are valid"


@dataclass(frozen=True)
class CheckVerdict:
    """A check's result in words, for a page: `outcome` is "passed", "failed" or "nothing to check"."""

    outcome: str
    sentence: str


def check_verdict(found: dict) -> CheckVerdict:
    """What credential_check found, as one sentence (its message names no secret)."""
    if found["ok"] is None:
        return CheckVerdict("nothing to check", f"Nothing to check: {found['message']}.")
    if found["ok"]:
        return CheckVerdict("passed", f"Check passed: {found['message']}.")
    return CheckVerdict("failed", f"Check failed: {found['message']}.")
