from django.urls import path
from rest_framework.routers import SimpleRouter

from subscriptions.api.views import EventTypeListView, ExportSettingsView, SubscriptionViewSet

router = SimpleRouter(trailing_slash=False)
router.trailing_slash = "/?"  # accept paths with and without the trailing slash
router.register("subscriptions", SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("event-types", EventTypeListView.as_view(), name="event-types"),
    path("export-settings", ExportSettingsView.as_view(), name="export-settings"),
    *router.urls,
]
