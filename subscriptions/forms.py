"""The Workbench's subscription and export settings forms: shapes and labels; the rules are the services'."""

import json

from django import forms
from django.core.exceptions import ValidationError

from config.errors import ApiError
from subscriptions.header_lines import HeaderLinesError, headers_from_lines, headers_to_lines
from subscriptions.models import RATE_LIMIT_MAX, EventType, ExportSettings, Subscription
from subscriptions.services import subscription_create, subscription_update

FILTER_TEXT_MAX = 16384  # room for a 4 KiB filter laid out on lines; the service checks the filter itself

# The API's (DRF's) wording, so that a form and the API refuse the same input in the same words.
_TOO_LONG = "Ensure this field has no more than %(limit_value)s characters."
_TEXT_ERRORS = {"max_length": _TOO_LONG, "required": "This field may not be blank."}


class EventTypeCheckboxes(forms.CheckboxSelectMultiple):
    """A checkbox per event type, labelled with its name, its description beside it."""

    option_template_name = "subscriptions/widgets/event_type_option.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        option["description"] = instance.description if instance is not None else ""
        return option


class EventTypeChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: EventType) -> str:
        return obj.name


class SubscriptionForm(forms.ModelForm):
    name = forms.CharField(label="Name", max_length=100, error_messages=_TEXT_ERRORS)
    card = forms.CharField(
        label="Card",
        max_length=128,
        required=False,
        error_messages={"max_length": _TOO_LONG},
        help_text="A card template id, or empty for all cards and Action Flows. It cannot change once saved.",
    )
    event_types = EventTypeChoices(
        label="Event types",
        queryset=EventType.objects.all(),
        to_field_name="name",
        widget=EventTypeCheckboxes,
        error_messages={"required": "This list may not be empty."},
    )
    method = forms.ChoiceField(
        label="Request method", choices=[(method, method) for method in Subscription.Method.values], initial="POST"
    )
    url = forms.CharField(label="URL", max_length=2048, error_messages=_TEXT_ERRORS)
    header_lines = forms.CharField(
        label="Headers",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "placeholder": "X-Team: growth"}),
        help_text=(
            "One <code>Name: value</code> per line. Secret-looking values show as ******** and stay as stored. "
            "<code>Content-Type</code> may name a JSON media type, e.g. <code>application/x-amz-json-1.0</code> "
            "with <code>X-Amz-Target</code> for an AWS service."
        ),
    )
    filter = forms.CharField(
        label="Filter",
        required=False,
        strip=False,
        max_length=FILTER_TEXT_MAX,
        error_messages={"max_length": _TOO_LONG},
        widget=forms.Textarea(
            attrs={"rows": 5, "cols": 60, "placeholder": '{"cardContext.cardTemplateId": {"$in": ["card-7"]}}'}
        ),
        help_text=(
            "A JSON object of conditions on the event, as the export settings leave it; an event that fails them "
            "gets no delivery. Empty: every event of the chosen types."
        ),
    )
    max_retries = forms.IntegerField(label="Max retries", min_value=0, max_value=50, initial=23)
    auto_disable = forms.BooleanField(
        label="Auto-disable",
        required=False,
        initial=True,
        help_text="Pause the subscription when a delivery runs out of retries.",
    )
    rate_limit = forms.IntegerField(
        label="Rate limit",
        min_value=1,
        max_value=RATE_LIMIT_MAX,
        required=False,
        error_messages={"invalid": "A valid integer is required."},
        help_text=f"Requests per second to the URL, across all workers (1 to {RATE_LIMIT_MAX}); empty for no limit.",
    )
    send_traceparent = forms.BooleanField(
        label="Send traceparent",
        required=False,
        initial=False,
        help_text="When Outflow is traced, send each request's W3C traceparent header, so your trace continues ours.",
    )

    ordered = forms.BooleanField(
        label="Deliver in order",
        required=False,
        initial=False,
        help_text="One request at a time, in the order the events arrived. A delivery that fails holds back the ones"
        " after it until it succeeds or gives up.",
    )

    class Meta:
        model = Subscription
        fields = ["environment", "credential", "tls_credential"]
        labels = {"environment": "Environment", "credential": "Credential", "tls_credential": "TLS credential"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            return
        self.fields.pop("environment", None)
        self.fields["card"].disabled = True
        self.initial.update(
            header_lines=headers_to_lines(self.instance.headers),
            filter="" if self.instance.filter is None else json.dumps(self.instance.filter, indent=2),
            event_types=[event_type.name for event_type in self.instance.event_types.all()],
        )
        for name in ("credential", "tls_credential"):
            if name in self.fields:
                credentials = self.fields[name].queryset
                self.fields[name].queryset = credentials.filter(environment_id=self.instance.environment_id)

    def clean_header_lines(self) -> dict[str, str]:
        try:
            return headers_from_lines(self.cleaned_data["header_lines"])
        except HeaderLinesError as error:
            raise ValidationError(str(error)) from error

    def clean_filter(self) -> dict | None:
        text = self.cleaned_data["filter"]
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            raise ValidationError(f"Not valid JSON: {error}") from error

    def _post_clean(self):
        """The service validates as it saves, so it runs as the form's last check: its refusals are the form's."""
        if self._errors:
            return
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "event_types": [event_type.name for event_type in data["event_types"]],
            "method": data["method"],
            "url": data["url"],
            "headers": data["header_lines"],
            "filter": data["filter"],
            "credential": data["credential"].pk if data.get("credential") else None,
            "tls_credential": data["tls_credential"].pk if data.get("tls_credential") else None,
            "max_retries": data["max_retries"],
            "auto_disable": data["auto_disable"],
            "rate_limit": data["rate_limit"],
            "send_traceparent": data["send_traceparent"],
            "ordered": data["ordered"],
        }
        try:
            if self.instance._state.adding:
                self.instance = subscription_create(
                    environment=data["environment"], card=data["card"] or None, **values
                )
            else:
                self.instance = subscription_update(subscription=self.instance, **values)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                field = {"headers": "header_lines"}.get(field, field)
                self.add_error(field if field in self.fields else None, messages)
        except ApiError as refusal:
            self.add_error(None, refusal.message)


class ExportSettingsForm(forms.ModelForm):
    class Meta:
        model = ExportSettings
        fields = ["include_test_events", "include_request_payload", "include_card_response_data"]
        labels = {
            "include_test_events": "Test card events",
            "include_request_payload": "Request payload",
            "include_card_response_data": "Card response data",
        }
        help_texts = {
            "include_test_events": (
                'Deliver the events of cards sent as tests too, marked with "test": true. '
                "When off, a test card's events reach no subscription."
            ),
            "include_request_payload": (
                "Keep requestPayload, the data sent with the trigger that made the event. "
                "When off, it is removed before any mapping runs and before delivery."
            ),
            "include_card_response_data": (
                "Keep what end users entered in cards (properties.values and properties.submittedValues). "
                "When off, those values are removed before any mapping runs and before delivery."
            ),
        }
