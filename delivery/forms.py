"""Forms of the subscription page's delivery tools."""

import json

from django import forms
from django.conf import settings


class RecoverForm(forms.Form):
    since = forms.DateTimeField(label="Since (UTC)")


class SendTestForm(forms.Form):
    """What Send test sends: an event type's catalog example, or a pasted event instead."""

    event_type = forms.ChoiceField(
        label="Event type", help_text="Its example from the event catalog is sent, marked as a test."
    )
    event = forms.CharField(
        label="Or paste an event",
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "spellcheck": "false"}),
        help_text="A JSON object, sent instead of the example (marked as a test, mapped as a delivery would be).",
    )

    def __init__(self, *args, event_types: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].choices = [(name, name) for name in event_types]

    def clean_event(self) -> dict | None:
        text = self.cleaned_data["event"]
        if not text:
            return None
        if len(text.encode()) > settings.OUTFLOW_MAX_EVENT_BYTES:
            raise forms.ValidationError(f"The event is larger than {settings.OUTFLOW_MAX_EVENT_BYTES} bytes.")
        try:
            event = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"This is not JSON: {error}.") from error
        if not isinstance(event, dict):
            raise forms.ValidationError("The event must be a JSON object, as {…}.")
        return event
