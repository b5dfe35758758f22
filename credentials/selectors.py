"""Read queries of the credentials app."""

from django.core.exceptions import ValidationError

from credentials.models import Credential


def credentials_of(*, environment):
    return Credential.objects.filter(environment=environment)


def credential_for_use(*, environment, credential_id) -> Credential | None:
    """The environment's credential of that id (None for None); another environment's is as unknown as none."""
    if credential_id is None:
        return None
    credential = credentials_of(environment=environment).filter(pk=credential_id).first()
    if credential is None:
        raise ValidationError({"credential": [f"no credential {credential_id} in this environment"]})
    return credential
