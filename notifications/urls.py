from django.urls import path

from notifications.views import email_confirm_page

app_name = "notifications"
urlpatterns = [
    path("confirm", email_confirm_page, name="email-confirm"),
]
