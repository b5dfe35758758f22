"""Read queries of the credentials app."""

import datetime

from django.core.exceptions import ValidationError

from credentials.models import Credential


def credentials_of(*, environment):
    return Credential.objects.filter(environment=environment)


def credential_for_use(*, environment, credential_id) -> Credential | None:
    """The environment's credential of that id (None for None); another environment's is as unknown as none. A TLS
    credential authenticates nothing by itself: it is a request's `tls_credential`."""
    if credential_id is None:
        return None
    credential = credentials_of(environment=environment).filter(pk=credential_id).first()
    if credential is None:
        raise ValidationError({"credential": [f"no credential {credential_id} in this environment"]})
    if credential.type == Credential.Type.TLS:
        raise ValidationError({"credential": ["a TLS credential is given as tls_credential"]})
    return credential


def tls_credential_for_use(*, environment, credential_id) -> Credential | None:
    """The environment's TLS credential of that id (None for None); any other is refused as `tls_credential`."""
    if credential_id is None:
        return None
    credential = credentials_of(environment=environment).filter(pk=credential_id, type=Credential.Type.TLS).first()
    if credential is None:
        raise ValidationError({"tls_credential": [f"no TLS credential {credential_id} in this environment"]})
    return credential


def tls_credentials_expiring(*, before: datetime.datetime) -> list[tuple[Credential, datetime.datetime]]:
    """TLS credentials whose client certificate expires before then (expired ones included), soonest first."""
    found = []
    for credential in Credential.objects.filter(type=Credential.Type.TLS).only("id", "name", "environment", "settings"):
        expires_at = credential.settings.get("certificate_expires_at")
        if expires_at and (when := datetime.datetime.fromisoformat(expires_at)) <= before:
            found.append((credential, when))
    return sorted(found, key=lambda pair: pair[1])
