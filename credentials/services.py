"""Services that create, change and delete saved credentials."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.changes import changes_between, secret_shown
from audit.services import audit_record
from config.errors import ApiError
from credentials import error_codes
from credentials.models import Credential
from credentials.tls import certificate_summary, tls_value_errors
from credentials.types import DEFAULTS, ORIGIN_FIELDS, credential_value_errors, split_values
from tenancy.models import Environment


def _checked(credential_type: str, values: dict, *, partial: bool) -> tuple[dict, dict]:
    errors = credential_value_errors(
        credential_type, values, partial=partial, allow_private=settings.OUTFLOW_ALLOW_PRIVATE_TARGETS
    )
    if errors:
        raise ValidationError(errors)
    return split_values(credential_type, values)


def _audited(credential: Credential) -> tuple[dict, dict]:
    """Its name and values as stored, and how the audit log shows them: every secret value as a fact, never itself."""
    values = {"name": credential.name, "type": credential.type, **credential.settings, **credential.secrets}
    return values, dict.fromkeys(credential.secrets, secret_shown)


def _audit(credential: Credential, action: str, before: dict, after: dict, shown: dict) -> None:
    audit_record(
        environment_id=credential.environment_id,
        action=action,
        object_id=credential.pk,
        object_name=credential.name,
        changes=changes_between(before, after, shown=shown),
    )


def _tls_checked(credential: Credential) -> None:
    """A TLS credential's material as a whole: valid PEM, a key that matches its certificate; and what reads show of
    its certificate, kept beside it (the expiry is what /metrics watches)."""
    if credential.type != Credential.Type.TLS:
        return
    if errors := tls_value_errors({**credential.settings, **credential.secrets}):
        raise ValidationError(errors)
    summary = certificate_summary(credential.settings.get("certificate", ""))
    credential.settings["certificate_subject"] = summary.subject if summary else None
    credential.settings["certificate_issuer"] = summary.issuer if summary else None
    credential.settings["certificate_expires_at"] = summary.expires_at.isoformat() if summary else None


def credential_create(*, environment: Environment, name: str, type: str, values: dict) -> Credential:
    public, secret = _checked(type, values, partial=False)
    credential = Credential(
        environment=environment, name=name, type=type, settings={**DEFAULTS.get(type, {}), **public}, secrets=secret
    )
    _tls_checked(credential)
    credential.full_clean()
    with transaction.atomic():
        credential.save()
        after, shown = _audited(credential)
        _audit(credential, "credential.created", {}, after, shown)
    return credential


def credential_update(
    *, credential: Credential, values: dict, name: str | None = None, type: str | None = None
) -> Credential:
    """Change some values; secret values not given are kept, unless the origin they are sent to changes. The type
    is fixed."""
    if type is not None and type != credential.type:
        raise ValidationError({"type": ["the type of a credential cannot be changed"]})
    public, secret = _checked(credential.type, values, partial=True)
    for origin, secret_name in ORIGIN_FIELDS.get(credential.type, {}).items():
        if origin in public and public[origin] != credential.settings.get(origin) and not secret.get(secret_name):
            # Whoever holds an API key could otherwise point a saved secret at their own host and read it there.
            raise ApiError(
                error_codes.SECRET_REQUIRED,
                f"changing {origin} requires {secret_name} again",
                fields={secret_name: [f"required when {origin} changes"]},
            )
    before, shown_before = _audited(credential)
    if name is not None:
        credential.name = name
    credential.settings = {**credential.settings, **public}
    credential.secrets = {**credential.secrets, **secret}
    _tls_checked(credential)
    credential.full_clean()
    with transaction.atomic():
        credential.save()
        after, shown = _audited(credential)
        if after != before:
            _audit(credential, "credential.updated", before, after, {**shown_before, **shown})
    return credential


def credential_delete(*, credential: Credential) -> None:
    with transaction.atomic():
        users = list(credential.subscriptions.select_for_update().values_list("name", flat=True))
        users += credential.tls_subscriptions.select_for_update().values_list("name", flat=True)
        if users:
            raise ApiError(
                error_codes.CREDENTIAL_IN_USE,
                f"the credential is used by {len(users)} subscription(s): {', '.join(sorted(users))}",
                status_code=409,
            )
        before, shown = _audited(credential)
        _audit(credential, "credential.deleted", before, {}, shown)
        credential.delete()
