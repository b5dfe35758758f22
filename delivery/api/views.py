"""HTTP API of ingest and of a subscription's deliveries: parse, call one service, render."""

from dataclasses import asdict

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApiError
from config.pagination import NewestFirstCursor
from delivery import error_codes, selectors
from delivery.api.serializers import (
    DeliverySerializer,
    IngestResultSerializer,
    MappingCheckResultSerializer,
    MappingCheckSerializer,
    MappingPreviewResultSerializer,
    MappingPreviewSerializer,
    RecoverResultSerializer,
    RecoverSerializer,
    SendTestSerializer,
)
from delivery.explain import deliveries_explain
from delivery.ingest import events_ingest
from delivery.mapping_preview import mapping_check, mapping_preview
from delivery.models import Delivery
from delivery.recovery import deliveries_recover, delivery_resend
from delivery.send_test import subscription_test_send
from requestlog.api.serializers import RequestLogSerializer
from subscriptions.selectors import subscriptions_of
from tenancy.throttling import IngestRateThrottle


class EventIngestView(APIView):
    throttle_classes = [IngestRateThrottle]
    accepts_ingest_keys = True  # tenancy.scopes: the one call an `ingest` key may make

    @extend_schema(request=OpenApiTypes.OBJECT, responses={202: IngestResultSerializer})
    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.OUTFLOW_MAX_REQUEST_BYTES:
            raise ApiError(
                error_codes.REQUEST_TOO_LARGE,
                f"the request body is larger than {settings.OUTFLOW_MAX_REQUEST_BYTES} bytes",
                status_code=413,
            )
        data = request.data
        if isinstance(data, dict) and "events" in data:
            if not isinstance(data["events"], list):
                raise ApiError(error_codes.INVALID_EVENTS, "'events' must be a list of events")
            raw_events = data["events"]
        else:
            raw_events = [data]
        result = events_ingest(environment=request.auth, raw_events=raw_events)
        return Response(asdict(result), status=202)


def _subscription(request, pk):
    return get_object_or_404(subscriptions_of(environment=request.auth), pk=pk)


class SubscriptionRecoverView(APIView):
    @extend_schema(request=RecoverSerializer, responses=RecoverResultSerializer)
    def post(self, request, pk):
        subscription = _subscription(request, pk)
        serializer = RecoverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recovered = deliveries_recover(subscription=subscription, since=serializer.validated_data["since"])
        return Response({"recovered": recovered})


class SubscriptionDeliveriesView(ListAPIView):
    serializer_class = DeliverySerializer
    pagination_class = NewestFirstCursor

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        # The page's `waiting_on`, explained together: its subscription's keys are read once.
        context = {**self.get_serializer_context(), "waiting_on": deliveries_explain(deliveries=page)}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    @extend_schema(parameters=[OpenApiParameter("status", enum=Delivery.Status.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        status = self.request.query_params.get("status")
        if status and status not in Delivery.Status.values:
            raise ApiError(
                "invalid",
                f"status must be one of {', '.join(Delivery.Status.values)}",
                fields={"status": [f"unknown status {status!r}"]},
            )
        return selectors.deliveries_of(subscription=_subscription(self.request, self.kwargs["pk"]), status=status)


def _delivery(request, pk) -> Delivery:
    delivery = selectors.delivery_of(environment=request.auth, pk=pk)
    if delivery is None:
        raise Http404
    return delivery


def _delivery_answer(delivery: Delivery) -> Response:
    return Response(
        DeliverySerializer(delivery, context={"waiting_on": deliveries_explain(deliveries=[delivery])}).data
    )


class DeliveryDetailView(APIView):
    @extend_schema(responses=DeliverySerializer)
    def get(self, request, pk):
        return _delivery_answer(_delivery(request, pk))


class DeliveryResendView(APIView):
    @extend_schema(request=None, responses=DeliverySerializer)
    def post(self, request, pk):
        return _delivery_answer(delivery_resend(delivery=_delivery(request, pk)))


class SubscriptionTestView(APIView):
    @extend_schema(request=SendTestSerializer, responses=RequestLogSerializer)
    def post(self, request, pk):
        subscription = _subscription(request, pk)
        serializer = SendTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = subscription_test_send(subscription=subscription, **serializer.validated_data)
        return Response(RequestLogSerializer(entry).data)


class SubscriptionMappingPreviewView(APIView):
    @extend_schema(request=MappingPreviewSerializer, responses=MappingPreviewResultSerializer)
    def post(self, request, pk):
        subscription = _subscription(request, pk)
        serializer = MappingPreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(mapping_preview(subscription=subscription, **serializer.validated_data))


class SubscriptionMappingCheckView(APIView):
    @extend_schema(request=MappingCheckSerializer, responses=MappingCheckResultSerializer)
    def post(self, request, pk):
        subscription = _subscription(request, pk)
        serializer = MappingCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"results": mapping_check(subscription=subscription, **serializer.validated_data)})
