from django.urls import path

from notifications.api.views import NotificationSecretRotateView, NotificationSettingsView

urlpatterns = [
    path("notifications", NotificationSettingsView.as_view(), name="notifications"),
    path("notifications/secret/rotate", NotificationSecretRotateView.as_view(), name="notifications-secret-rotate"),
]
