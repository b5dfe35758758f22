"""The Workbench's sign-in pages, under the admin's prefix."""

from django.contrib import admin
from django.urls import path

from tenancy.views import SsoCallbackView, SsoStartView, two_factor_page

urlpatterns = [
    path("two-factor/", admin.site.admin_view(two_factor_page), name="workbench-two-factor"),
    path("sso/start/", SsoStartView.as_view(), name="workbench-sso-start"),
    path("sso/callback/", SsoCallbackView.as_view(), name="workbench-sso-callback"),
]
