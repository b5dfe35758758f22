"""HTTP API of subscriptions, event types and export settings: parse, call one service, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from subscriptions import selectors, services
from subscriptions.api.serializers import (
    EventTypeSerializer,
    ExportSettingsSerializer,
    SecretSerializer,
    SubscriptionSerializer,
)
from subscriptions.models import EventType


class EventTypeListView(APIView):
    @extend_schema(responses=EventTypeSerializer(many=True))
    def get(self, request):
        return Response(EventTypeSerializer(EventType.objects.all(), many=True).data)


class ExportSettingsView(APIView):
    @extend_schema(responses=ExportSettingsSerializer)
    def get(self, request):
        return Response(ExportSettingsSerializer(selectors.export_settings_of(environment=request.auth)).data)

    @extend_schema(request=ExportSettingsSerializer, responses=ExportSettingsSerializer)
    def patch(self, request):
        serializer = ExportSettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        export_settings = services.export_settings_update(environment=request.auth, **serializer.validated_data)
        return Response(ExportSettingsSerializer(export_settings).data)


class SubscriptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = SubscriptionSerializer
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        return selectors.subscriptions_of(environment=self.request.auth)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            # Read once for a page of subscriptions: their filter warnings depend on it.
            context["export_settings"] = selectors.export_settings_of(environment=self.request.auth)
        return context

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_create(environment=request.auth, **serializer.validated_data)
        return Response(self.get_serializer(subscription).data, status=201)

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        subscription = self.get_object()
        serializer = self.get_serializer(subscription, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_update(subscription=subscription, **serializer.validated_data)
        return Response(self.get_serializer(subscription).data)

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        subscription = services.subscription_pause(subscription=self.get_object(), reason="paused through the API")
        return Response(self.get_serializer(subscription).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        subscription = services.subscription_resume(subscription=self.get_object())
        return Response(self.get_serializer(subscription).data)

    @extend_schema(request=None, responses=SecretSerializer)
    @action(detail=True, methods=["get"])
    def secret(self, request, pk=None):
        return Response({"secret": self.get_object().secret})

    @extend_schema(request=None, responses=SecretSerializer)
    @action(detail=True, methods=["post"], url_path="secret/rotate")
    def secret_rotate(self, request, pk=None):
        subscription = services.subscription_secret_rotate(subscription=self.get_object())
        return Response({"secret": subscription.secret})
