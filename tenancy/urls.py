"""The Workbench's own pages under the admin's prefix: sign-in (two-factor, single sign-on) and the environment's
switcher and command palette."""

from django.contrib import admin
from django.urls import path

from tenancy.views import SsoCallbackView, SsoStartView, two_factor_page
from tenancy.workbench_views import environment_switch_view, palette_entries_view

urlpatterns = [
    path("two-factor/", admin.site.admin_view(two_factor_page), name="workbench-two-factor"),
    path("sso/start/", SsoStartView.as_view(), name="workbench-sso-start"),
    path("sso/callback/", SsoCallbackView.as_view(), name="workbench-sso-callback"),
    path("environment/", admin.site.admin_view(environment_switch_view), name="workbench_environment"),
    path("environment/palette/", admin.site.admin_view(palette_entries_view), name="workbench_palette"),
]
