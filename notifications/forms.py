"""The Workbench's notification settings form: shapes and labels; the rules are the service's."""

from django import forms
from django.core.exceptions import ValidationError

from notifications.models import NotificationSettings
from notifications.services import notification_settings_update


class NotificationSettingsForm(forms.ModelForm):
    webhook_url = forms.CharField(
        label="Webhook URL",
        max_length=2048,
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="Receives subscription.paused, subscription.resumed and delivery.failed, signed with the secret "
        "below as deliveries are. Empty: no webhook.",
    )
    email_lines = forms.CharField(
        label="Emails",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "placeholder": "ops@example.com"}),
        help_text="One address per line; each notification is mailed to those whose owners confirmed them. A new "
        "address is sent a mail with a link to confirm (again at most once an hour, if it is listed again).",
    )

    class Meta:
        model = NotificationSettings
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.update(webhook_url=self.instance.webhook_url or "", email_lines="\n".join(self.instance.emails))

    def _post_clean(self):
        """The service validates as it saves, so it runs as the form's last check: its refusals are the form's."""
        if self._errors:
            return
        emails = [line.strip() for line in self.cleaned_data["email_lines"].splitlines() if line.strip()]
        try:
            self.instance = notification_settings_update(
                environment=self.instance.environment, webhook_url=self.cleaned_data["webhook_url"], emails=emails
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error({"emails": "email_lines"}.get(field, field), messages)
