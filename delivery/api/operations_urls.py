"""The operator endpoints' URLs, at the site's root (config/urls.py includes them by name, importing nothing here)."""

from django.urls import path

from delivery.api.operations import healthz, metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
]
