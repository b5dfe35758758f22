"""Serializers of the subscriptions API: shapes and types only; rules live in services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from outbound.masking import masked_headers
from subscriptions.event_catalog import event_type_example, event_type_schema
from subscriptions.models import RATE_LIMIT_MAX, EventType, ExportSettings, Subscription
from subscriptions.selectors import subscription_filter_warnings


class EventTypeSerializer(serializers.ModelSerializer):
    example = serializers.SerializerMethodField(help_text="A realistic event of this type.")
    schema = serializers.SerializerMethodField(help_text="A JSON Schema of this type's known fields.")

    class Meta:
        model = EventType
        fields = ["name", "origin", "description", "example", "schema"]

    def get_example(self, event_type: EventType) -> dict:
        return event_type_example(name=event_type.name)

    def get_schema(self, event_type: EventType) -> dict:
        return event_type_schema(name=event_type.name)


class ExportSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExportSettings
        fields = ["include_test_events", "include_request_payload", "include_card_response_data"]


class EventTypeNamesField(serializers.ListField):
    """Written as a list of names; read from the subscription's event types."""

    child = serializers.CharField(max_length=64)

    def to_representation(self, data):
        return sorted(event_type.name for event_type in data.all())


class CredentialIdField(serializers.UUIDField):
    """Written and read as the credential's id."""

    def get_attribute(self, instance):
        return instance.credential_id


class TlsCredentialIdField(serializers.UUIDField):
    """Written and read as the TLS credential's id."""

    def get_attribute(self, instance):
        return instance.tls_credential_id


class MaskedHeadersField(serializers.DictField):
    """Custom headers; values under secret-looking names are write-only (read back masked)."""

    child = serializers.CharField(allow_blank=True, trim_whitespace=False)

    def to_representation(self, value):
        return masked_headers(value)


class SubscriptionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100)
    card = serializers.CharField(max_length=128, allow_null=True, required=False)
    event_types = EventTypeNamesField(allow_empty=False, max_length=100)
    method = serializers.ChoiceField(choices=Subscription.Method.choices, default=Subscription.Method.POST)
    url = serializers.CharField(max_length=2048)
    headers = MaskedHeadersField(default=dict)
    credential = CredentialIdField(allow_null=True, default=None)
    tls_credential = TlsCredentialIdField(allow_null=True, default=None)
    mapping = serializers.CharField(
        allow_null=True, allow_blank=True, default=None, trim_whitespace=False, max_length=65536
    )
    filter = serializers.JSONField(allow_null=True, default=None)
    max_retries = serializers.IntegerField(min_value=0, max_value=50, default=23)
    auto_disable = serializers.BooleanField(default=True)
    rate_limit = serializers.IntegerField(min_value=1, max_value=RATE_LIMIT_MAX, allow_null=True, default=None)
    send_traceparent = serializers.BooleanField(default=False)
    ordered = serializers.BooleanField(
        default=False,
        help_text="Deliver one at a time in the order the events came in; a failing delivery holds those behind it.",
    )
    warnings = serializers.SerializerMethodField(
        help_text="What may not work as meant, e.g. filter paths that the export settings remove (always missing)."
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "card",
            "event_types",
            "method",
            "url",
            "headers",
            "credential",
            "tls_credential",
            "mapping",
            "filter",
            "max_retries",
            "auto_disable",
            "rate_limit",
            "send_traceparent",
            "ordered",
            "status",
            "paused_reason",
            "paused_at",
            "created_at",
            "updated_at",
            "warnings",
        ]
        read_only_fields = ["id", "status", "paused_reason", "paused_at", "created_at", "updated_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, subscription: Subscription) -> list[str]:
        return subscription_filter_warnings(
            subscription=subscription, export_settings=self.context.get("export_settings")
        )


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)
