"""Serializers of the delivery API."""

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


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.event_id")
    event_name = serializers.CharField(source="event.name")

    class Meta:
        model = Delivery
        fields = [
            "id",
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
        ]


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
