"""HTTP API of credentials and of the Send Request step: parse, call one service, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials import services
from credentials.api.serializers import (
    CredentialCheckSerializer,
    CredentialSerializer,
    CredentialWriteSerializer,
    SendRequestResultSerializer,
    SendRequestSerializer,
)
from credentials.check import credential_check
from credentials.selectors import credentials_of
from credentials.send_request import request_send


class CredentialViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = CredentialSerializer
    lookup_value_regex = "[0-9a-f-]{36}"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return credentials_of(environment=self.request.auth)

    @extend_schema(request=CredentialWriteSerializer, responses={201: CredentialSerializer})
    def create(self, request):
        serializer = CredentialWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credential = services.credential_create(environment=request.auth, **serializer.validated_data)
        return Response(CredentialSerializer(credential).data, status=201)

    @extend_schema(request=CredentialWriteSerializer, responses=CredentialSerializer)
    def partial_update(self, request, pk=None):
        credential = self.get_object()
        serializer = CredentialWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        credential = services.credential_update(credential=credential, **serializer.validated_data)
        return Response(CredentialSerializer(credential).data)

    def perform_destroy(self, instance):
        services.credential_delete(credential=instance)

    @extend_schema(request=None, responses=CredentialCheckSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        return Response(credential_check(credential=self.get_object()))


class SendRequestView(APIView):
    @extend_schema(request=SendRequestSerializer, responses=SendRequestResultSerializer)
    def post(self, request):
        serializer = SendRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = request_send(
            environment=request.auth,
            method=data["method"],
            url=data["url"],
            headers=data["headers"],
            body=data["body"],
            credential_id=data["credential"],
            tls_credential_id=data["tls_credential"],
        )
        return Response(result)
