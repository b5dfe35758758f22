"""HTTP API of the request log: a subscription's entries, and one entry."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.pagination import NewestFirstCursor
from requestlog.api.serializers import RequestLogFilterSerializer, RequestLogSerializer
from requestlog.selectors import request_log_of_environment, request_logs_of
from subscriptions.selectors import subscriptions_of


class SubscriptionRequestLogView(ListAPIView):
    serializer_class = RequestLogSerializer
    pagination_class = NewestFirstCursor

    @extend_schema(parameters=[RequestLogFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        subscription = get_object_or_404(subscriptions_of(environment=self.request.auth), pk=self.kwargs["pk"])
        filters = RequestLogFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return request_logs_of(
            subscription=subscription,
            outcome=data.get("outcome"),
            is_test=data.get("test"),
            since=data.get("since"),
            until=data.get("until"),
        )


class RequestLogDetailView(APIView):
    @extend_schema(responses=RequestLogSerializer)
    def get(self, request, pk: int):
        entry = request_log_of_environment(environment=request.auth, pk=pk)
        if entry is None:
            raise NotFound()
        return Response(RequestLogSerializer(entry).data)
