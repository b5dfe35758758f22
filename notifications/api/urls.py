from django.urls import path

from notifications.api.views import NotificationSecretRotateView, NotificationSettingsView, NotificationTestView

urlpatterns = [
    path("notifications", NotificationSettingsView.as_view(), name="notifications"),
    path("notifications/secret/rotate", NotificationSecretRotateView.as_view(), name="notifications-secret-rotate"),
    path("notifications/test", NotificationTestView.as_view(), name="notifications-test"),
]
