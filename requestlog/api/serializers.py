"""Serializers of the request log API (rows are stored already redacted)."""

from rest_framework import serializers

from requestlog.models import RequestLog


class RequestLogSerializer(serializers.ModelSerializer):
    delivery = serializers.UUIDField(source="delivery_id", allow_null=True)
    test = serializers.BooleanField(source="is_test")

    class Meta:
        model = RequestLog
        fields = [
            "id",
            "subscription",
            "delivery",
            "attempt",
            "test",
            "method",
            "url",
            "request_headers",
            "request_body",
            "request_body_size",
            "response_status",
            "response_headers",
            "response_body",
            "response_body_size",
            "duration_ms",
            "error",
            "created_at",
        ]


class RequestLogFilterSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["success", "failure"], required=False)
    test = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
