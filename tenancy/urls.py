from django.contrib import admin
from django.urls import path

from tenancy.workbench_views import environment_switch_view

urlpatterns = [
    path("", admin.site.admin_view(environment_switch_view), name="workbench_environment"),
]
