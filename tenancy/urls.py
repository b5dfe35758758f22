from django.contrib import admin
from django.urls import path

from tenancy.workbench_views import environment_switch_view, palette_entries_view

urlpatterns = [
    path("", admin.site.admin_view(environment_switch_view), name="workbench_environment"),
    path("palette/", admin.site.admin_view(palette_entries_view), name="workbench_palette"),
]
