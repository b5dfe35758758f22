"""HTTP API of the environment's notification settings: parse, call one service, render."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.api.serializers import (
    NotificationSettingsSerializer,
    NotificationSettingsUpdateSerializer,
    NotificationTestResultSerializer,
)
from notifications.selectors import notification_settings_of
from notifications.services import notification_secret_rotate, notification_settings_update, notification_test_send
from subscriptions.api.serializers import SecretSerializer


class NotificationSettingsView(APIView):
    @extend_schema(responses=NotificationSettingsSerializer)
    def get(self, request):
        return Response(NotificationSettingsSerializer(notification_settings_of(environment=request.auth)).data)

    @extend_schema(request=NotificationSettingsUpdateSerializer, responses=NotificationSettingsSerializer)
    def patch(self, request):
        serializer = NotificationSettingsUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = notification_settings_update(environment=request.auth, **serializer.validated_data)
        return Response(NotificationSettingsSerializer(updated).data)


class NotificationSecretRotateView(APIView):
    """As a subscription's `secret/rotate`: the new secret; the old one keeps signing alongside for a while."""

    @extend_schema(request=None, responses=SecretSerializer)
    def post(self, request):
        return Response({"secret": notification_secret_rotate(environment=request.auth).secret})


class NotificationTestView(APIView):
    """A notification.test to every channel set, now; 409 no_channel when none is."""

    @extend_schema(request=None, responses=NotificationTestResultSerializer)
    def post(self, request):
        sent = notification_test_send(environment=request.auth)
        return Response({"type": "notification.test", "channels": sorted({item.channel for item in sent})})
