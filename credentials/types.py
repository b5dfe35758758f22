"""The fields of each credential type, and the checks of a set of values against them (pure)."""

from dataclasses import dataclass

from outbound.validation import url_errors


@dataclass(frozen=True)
class FieldSpec:
    required: bool = False
    secret: bool = False
    choices: tuple[str, ...] | None = None
    boolean: bool = False
    url: bool = False
    max_length: int = 2048


CREDENTIAL_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "basic_auth": {
        "username": FieldSpec(required=True, max_length=256),
        "password": FieldSpec(required=True, secret=True),
    },
    "oauth_client_credentials": {
        "token_url": FieldSpec(required=True, url=True),
        "client_id": FieldSpec(required=True, max_length=512),
        "client_secret": FieldSpec(required=True, secret=True),
        "scope": FieldSpec(max_length=1024),
        "request_scheme": FieldSpec(choices=("body", "url")),
    },
    "aws_signed_request": {
        "access_key_id": FieldSpec(required=True, max_length=128),
        "secret_access_key": FieldSpec(required=True, secret=True),
        "session_token": FieldSpec(secret=True, max_length=4096),
        "region": FieldSpec(max_length=32),
        "service": FieldSpec(max_length=64),
        "sign_query": FieldSpec(boolean=True),
    },
    # Which of these must be given together is the TLS rules' to say (credentials/tls.py).
    "tls": {
        "certificate": FieldSpec(max_length=65536),
        "private_key": FieldSpec(secret=True, max_length=65536),
        "ca_certificates": FieldSpec(max_length=1048576),
    },
}
DEFAULTS = {
    "oauth_client_credentials": {"request_scheme": "body", "scope": ""},
    "aws_signed_request": {"sign_query": False},
    "tls": {"certificate": "", "ca_certificates": ""},
}
# Where a credential's secret is sent: changing it sends the secret elsewhere, so the secret must be given again.
ORIGIN_FIELDS = {"oauth_client_credentials": {"token_url": "client_secret"}}
ALL_FIELDS = sorted({name for fields in CREDENTIAL_FIELDS.values() for name in fields})
BOOLEAN_FIELDS = {name for fields in CREDENTIAL_FIELDS.values() for name, spec in fields.items() if spec.boolean}


def _value_error(spec: FieldSpec, value, *, allow_private: bool) -> str | None:
    if spec.boolean:
        return None if isinstance(value, bool) else "must be true or false"
    if value is None or (not isinstance(value, str)):
        return "must be a string"
    if spec.required and not value:
        return "must not be empty"
    if len(value) > spec.max_length:
        return f"at most {spec.max_length} characters"
    if spec.choices and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}"
    if spec.url and (problems := url_errors(value, allow_private=allow_private)):
        return problems[0]
    return None


def credential_value_errors(
    credential_type: str, values: dict, *, partial: bool, allow_private: bool
) -> dict[str, list[str]]:
    """Field → problems of values for a type; with partial, missing required fields are allowed."""
    fields = CREDENTIAL_FIELDS[credential_type]
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name not in fields:
            errors[name] = [f"not a field of {credential_type}"]
        elif problem := _value_error(fields[name], value, allow_private=allow_private):
            errors[name] = [problem]
    if not partial:
        for name, spec in fields.items():
            if spec.required and name not in values:
                errors[name] = ["this field is required"]
    return errors


def split_values(credential_type: str, values: dict) -> tuple[dict, dict]:
    """(public settings, secret values) of a set of values."""
    fields = CREDENTIAL_FIELDS[credential_type]
    public = {name: value for name, value in values.items() if not fields[name].secret}
    secret = {name: value for name, value in values.items() if fields[name].secret}
    return public, secret
