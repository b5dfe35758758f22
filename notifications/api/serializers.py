"""Serializers of the notifications API: shapes and types only; rules live in services."""

from rest_framework import serializers


class NotificationSettingsSerializer(serializers.Serializer):
    webhook_url = serializers.CharField(max_length=2048, allow_null=True, allow_blank=True, required=False)
    emails = serializers.ListField(child=serializers.CharField(max_length=254), max_length=100, required=False)
    secret = serializers.CharField(read_only=True, help_text="Signs the webhook like a delivery; read-only.")

    def validate(self, data):
        if "secret" in self.initial_data:
            raise serializers.ValidationError({"secret": ["read-only: the notification secret cannot be set"]})
        return data
