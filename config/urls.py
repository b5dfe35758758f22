"""Top-level URLs: the v1 API, its schema and docs, the admin, notification address confirmation, and operator
endpoints."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "Outflow Workbench"
admin.site.site_title = "Outflow Workbench"
admin.site.index_title = "Your webhooks"
# No "View site": the Workbench is the site.
admin.site.site_url = None

urlpatterns = [
    path("api/v1/", include("subscriptions.api.urls")),
    path("api/v1/", include("delivery.api.urls")),
    path("api/v1/", include("credentials.api.urls")),
    path("api/v1/", include("requestlog.api.urls")),
    path("api/v1/", include("notifications.api.urls")),
    path("api/v1/", include("audit.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[], permission_classes=[]),
        name="docs",
    ),
    path("admin/", include("tenancy.urls")),
    path("admin/", admin.site.urls),
    path("notifications/", include("notifications.urls")),
    path("", include("delivery.api.operations_urls")),
]

handler404 = "config.error_pages.not_found"
handler500 = "config.error_pages.server_error"
