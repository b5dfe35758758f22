"""Serializers of the delivery API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from delivery.models import Delivery


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


class MappingPreviewSerializer(serializers.Serializer):
    script = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=65536)
    event = serializers.DictField(required=False)


class MappingErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)


class MappingPreviewResultSerializer(serializers.Serializer):
    example = serializers.DictField()
    output = serializers.JSONField(allow_null=True)
    skipped = serializers.BooleanField()
    error = MappingErrorSerializer(allow_null=True)
    logs = serializers.ListField(child=serializers.CharField())
    matches_filter = serializers.BooleanField(help_text="Whether the example passes the subscription's filter.")
