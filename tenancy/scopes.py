"""What an API key's scope lets it call, checked on every API view by a default DRF permission (settings).

`full` calls everything; `read` only reads (GET, and HEAD and OPTIONS, which change nothing); `ingest` only posts
events, to the one view that declares `accepts_ingest_keys`.

Referenced by REST_FRAMEWORK's settings, so this module must not import rest_framework.views (nor config.errors,
which does): DRF resolves its default permissions while that module loads.
"""

from rest_framework import exceptions, permissions

from tenancy import error_codes
from tenancy.models import ApiKey

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def scope_allows(*, scope: str, method: str, ingest_view: bool) -> bool:
    if scope == ApiKey.Scope.FULL:
        return True
    if scope == ApiKey.Scope.READ:
        return method in READ_METHODS
    return scope == ApiKey.Scope.INGEST and ingest_view and method == "POST"


class OutOfScope(exceptions.PermissionDenied):
    default_code = error_codes.SCOPE
    default_detail = "This API key's scope does not allow this call."


class ApiKeyScope(permissions.BasePermission):
    """Refuses (403 `scope`) a call that the request's API key may not make; requests without a key are left to
    HasEnvironment."""

    def has_permission(self, request, view):
        api_key = getattr(request, "api_key", None)
        if api_key is None:
            return True
        if not scope_allows(
            scope=api_key.scope, method=request.method, ingest_view=getattr(view, "accepts_ingest_keys", False)
        ):
            raise OutOfScope(f"an API key of scope {api_key.scope!r} may not call {request.method} {request.path}")
        return True
