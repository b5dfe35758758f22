"""Serializers of the delivery API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from delivery.models import Delivery
from subscriptions.models import EventType


class EventTypeNameField(serializers.SlugRelatedField):
    """A known event type's name (400 for another), validated as the name."""

    def __init__(self, **kwargs):
        super().__init__(queryset=EventType.objects.all(), slug_field="name", required=False, **kwargs)

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(data).name


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    deliveries = serializers.IntegerField()


class RecoverSerializer(serializers.Serializer):
    since = serializers.DateTimeField()


class RecoverResultSerializer(serializers.Serializer):
    recovered = serializers.IntegerField()


class WaitingOnSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[
            "final",
            "sending",
            "back_off",
            "endpoint_unreachable",
            "endpoint_slow_down",
            "rate_limit",
            "in_flight_limit",
            "ordered",
            "paused",
            "queued",
        ]
    )
    until = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    """A delivery; `waiting_on` comes from the view's context (`waiting_on`: explained by id, a page at once)."""

    event = serializers.CharField(source="event.event_id", help_text="The event's id, as it was ingested.")
    event_id = serializers.CharField(source="event.event_id")
    event_name = serializers.CharField(source="event.name")
    waiting_on = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "subscription",
            "event",
            "event_id",
            "event_name",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "updated_at",
            "completed_at",
            "waiting_on",
        ]

    @extend_schema_field(WaitingOnSerializer)
    def get_waiting_on(self, delivery: Delivery) -> dict:
        return self.context["waiting_on"][delivery.pk].as_dict()


class SendTestSerializer(serializers.Serializer):
    event = serializers.DictField(required=False, help_text="The event to send; default: a sample of the first type.")
    event_type = EventTypeNameField(help_text="Without an event: send the catalog's example of this type.")


class MappingPreviewSerializer(serializers.Serializer):
    script = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=65536)
    event = serializers.DictField(required=False)
    event_type = EventTypeNameField(
        help_text="Without an event: the latest event of this type, else its catalog example."
    )


class MappingCheckSerializer(serializers.Serializer):
    script = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=65536)


class MappingErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)


class MappingPreviewResultSerializer(serializers.Serializer):
    example = serializers.DictField()
    source = serializers.ChoiceField(choices=["given", "latest", "example"])
    output = serializers.JSONField(allow_null=True)
    skipped = serializers.BooleanField()
    error = MappingErrorSerializer(allow_null=True)
    logs = serializers.ListField(child=serializers.CharField())
    matches_filter = serializers.BooleanField(help_text="Whether the example passes the subscription's filter.")


class MappingCheckRunSerializer(serializers.Serializer):
    event_type = serializers.CharField()
    source = serializers.ChoiceField(choices=["example", "latest"])
    event_id = serializers.CharField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = MappingErrorSerializer(allow_null=True)


class MappingCheckResultSerializer(serializers.Serializer):
    results = MappingCheckRunSerializer(many=True)
