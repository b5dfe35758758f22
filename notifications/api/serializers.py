"""Serializers of the notifications API: shapes and types only; rules live in services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.addresses import email_states


class NotificationSettingsUpdateSerializer(serializers.Serializer):
    """What a PATCH takes: `emails` is a list of addresses, as it always was."""

    webhook_url = serializers.CharField(max_length=2048, allow_null=True, allow_blank=True, required=False)
    emails = serializers.ListField(child=serializers.CharField(max_length=254), max_length=100, required=False)

    def validate(self, data):
        if "secret" in self.initial_data:
            raise serializers.ValidationError({"secret": ["read-only: the notification secret cannot be set"]})
        return data


class EmailStateSerializer(serializers.Serializer):
    email = serializers.CharField()
    confirmed = serializers.BooleanField(help_text="Its owner confirmed it: only confirmed addresses are mailed.")


class NotificationSettingsSerializer(serializers.Serializer):
    webhook_url = serializers.CharField(allow_null=True)
    emails = serializers.SerializerMethodField()
    secret = serializers.CharField(read_only=True, help_text="Signs the webhook like a delivery; read-only.")

    @extend_schema_field(EmailStateSerializer(many=True))
    def get_emails(self, notification_settings) -> list[dict]:
        return email_states(notification_settings)


class NotificationTestResultSerializer(serializers.Serializer):
    type = serializers.CharField()
    channels = serializers.ListField(child=serializers.CharField(), help_text="webhook and/or email")
