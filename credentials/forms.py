"""The Workbench's credential form: a fieldset per type, labelled as the console names them; rules are the service's."""

from django import forms
from django.core.exceptions import ValidationError

from config.errors import ApiError
from credentials.models import Credential
from credentials.services import credential_create, credential_update
from credentials.types import CREDENTIAL_FIELDS

TYPE_LABELS = {
    Credential.Type.AWS_SIGNED_REQUEST: "AWS signed request",
    Credential.Type.OAUTH_CLIENT_CREDENTIALS: "OAuth client credentials",
    Credential.Type.BASIC_AUTH: "Basic auth",
    Credential.Type.TLS: "TLS client certificate and CA certificates",
}
_PEM_ROWS = {"rows": 6, "cols": 70, "spellcheck": "false"}


def _text(label: str, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, required=False, strip=False, **kwargs)


class _SecretTextarea(forms.Textarea):
    """A text area (PEM has line breaks) that, like the other secret fields, never renders a value back."""

    def format_value(self, value):
        return None


def _secret(label: str) -> forms.CharField:
    # Never rendered back: a blank field keeps the stored value.
    return _text(label, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))


class CredentialForm(forms.ModelForm):
    name = forms.CharField(label="Name", max_length=100)
    type = forms.ChoiceField(label="Type", choices=list(TYPE_LABELS.items()))
    access_key_id = _text("Access key ID")
    secret_access_key = _secret("Secret access key")
    session_token = _secret("Session token")
    region = _text("Region", help_text="Optional: inferred from AWS host names.")
    service = _text("Service", help_text="Optional: inferred from AWS host names.")
    sign_query = forms.BooleanField(
        label="Sign query", required=False, help_text="Sign in the query string instead of an Authorization header."
    )
    token_url = _text("Token URL")
    client_id = _text("Client ID")
    client_secret = _secret("Client secret")
    scope = _text("Scope", help_text="Optional.")
    request_scheme = forms.ChoiceField(
        label="Request scheme",
        choices=[("body", "Body (POST, form-encoded)"), ("url", "URL (GET, credentials as query parameters)")],
        initial="body",
        required=False,
    )
    username = _text("Username")
    password = _secret("Password")
    certificate = _text(
        "Client certificate", widget=forms.Textarea(attrs=_PEM_ROWS), help_text="PEM; give its private key with it."
    )
    private_key = _text("Private key", widget=_SecretTextarea(attrs=_PEM_ROWS), help_text="PEM, without a passphrase.")
    ca_certificates = _text(
        "CA certificates",
        widget=forms.Textarea(attrs=_PEM_ROWS),
        help_text="PEM bundle trusted for the endpoint's certificate, beside the public roots.",
    )

    class Meta:
        model = Credential
        fields = ["environment"]
        labels = {"environment": "Environment"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        credential = self.instance
        if credential._state.adding:
            return
        self.fields.pop("environment", None)
        self.fields["type"].disabled = True
        for name in [name for name in self.fields if _type_of(name) not in (None, credential.type)]:
            del self.fields[name]
        for name, spec in CREDENTIAL_FIELDS[credential.type].items():
            if spec.secret:
                is_set = bool(credential.secrets.get(name))
                self.fields[name].help_text = "Set; leave blank to keep it." if is_set else "Not set."
            else:
                self.initial[name] = credential.settings.get(name)

    def _post_clean(self):
        """The service validates as it saves, so it runs as the form's last check: its refusals are the form's."""
        if self._errors:
            return
        data = self.cleaned_data
        credential_type = data["type"] if self.instance._state.adding else self.instance.type
        values = {}
        for name, spec in CREDENTIAL_FIELDS[credential_type].items():
            value = data.get(name)
            # Blank is "not given": a secret keeps its stored value, a setting on a new credential its default.
            if value == "" and (spec.secret or self.instance._state.adding):
                continue
            values[name] = value
        try:
            if self.instance._state.adding:
                self.instance = credential_create(
                    environment=data["environment"], name=data["name"], type=credential_type, values=values
                )
            else:
                self.instance = credential_update(credential=self.instance, name=data["name"], values=values)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        except ApiError as refusal:
            for field, messages in (refusal.fields or {None: [refusal.message]}).items():
                self.add_error(field if field in self.fields else None, messages)


def _type_of(field_name: str) -> str | None:
    for credential_type, fields in CREDENTIAL_FIELDS.items():
        if field_name in fields:
            return credential_type
    return None
