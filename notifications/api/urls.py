from django.urls import path

from notifications.api.views import NotificationSettingsView

urlpatterns = [
    path("notifications", NotificationSettingsView.as_view(), name="notifications"),
]
