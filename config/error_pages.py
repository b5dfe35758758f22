"""Error pages: the API's JSON envelope under /api/, Django's pages elsewhere."""

from django.http import JsonResponse
from django.views import defaults

from config.errors import error_body


def not_found(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", "Internal error; it has been logged."), status=500)
    return defaults.server_error(request)
