"""The one API error envelope, {"error": {"code", "message", "fields"?}}: every 4xx, and 503 while the database
is down."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApiError(exceptions.APIException):
    """A business-rule refusal with a stable machine code (codes live in each app's error_codes.py)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int = 400,
        fields: dict | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.fields = fields
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


_CODES = {
    exceptions.ParseError: "malformed_json",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.NotAcceptable: "not_acceptable",
}


def _flatten(detail) -> list[str] | dict:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [str(item) for item in detail]
        return [_flatten(item) for item in detail]
    return [str(detail)]


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def api_exception_handler(exc, context):
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable (down, restarting, connections exhausted): nothing was done, try later.
        exc = ApiError(
            "unavailable",
            "the service is temporarily unavailable; try again later",
            status_code=503,
            retry_after=settings.OUTFLOW_UNAVAILABLE_RETRY_AFTER_SECONDS,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, ApiError):
        return Response(
            error_body(exc.error_code, exc.message, exc.fields), status=exc.status_code, headers=exc.headers
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, dict):
            message = "Invalid input."
            non_field = fields.pop("non_field_errors", None)
            if non_field:
                message = "; ".join(non_field)
            response.data = error_body("invalid", message, fields)
        else:
            response.data = error_body("invalid", "; ".join(map(str, fields)))
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code = _CODES.get(type(exc), getattr(exc, "default_code", "error"))
    response.data = error_body(code, str(exc.detail))
    return response
