"""Operator endpoints: /healthz (database, broker, cache, egress proxy) and /metrics (Prometheus text)."""

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from config.celery import app
from delivery.metrics import OutflowCollector, metrics_token_accepts
from outbound.proxy import proxy_reachable

HEALTH_CACHE_KEY = "outflow:healthz"


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _broker_ok() -> bool:
    # Any failure counts: each transport (Redis, filesystem) raises its own errors.
    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def _cache_ok() -> bool:
    # Any failure counts: each backend (Redis, file) raises its own errors.
    try:
        cache.set(HEALTH_CACHE_KEY, "ok", timeout=10)
        return True
    except Exception:
        return False


def healthz(request):
    checks = {
        "database": "ok" if _database_ok() else "down",
        "broker": "ok" if _broker_ok() else "down",
        "cache": "ok" if _cache_ok() else "down",
    }
    if proxy := settings.OUTFLOW_OUTBOUND_PROXY_URL:
        checks["proxy"] = "ok" if proxy_reachable(proxy, timeout=2) else "down"
    return JsonResponse(checks, status=200 if all(value == "ok" for value in checks.values()) else 503)


def metrics(request):
    if not metrics_token_accepts(
        token=settings.OUTFLOW_METRICS_TOKEN, authorization=request.headers.get("Authorization", "")
    ):
        return HttpResponse("metrics need the bearer token\n", status=401, headers={"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry()
    registry.register(OutflowCollector())
    try:
        body = generate_latest(registry)
    except DatabaseError:
        retry_after = str(settings.OUTFLOW_UNAVAILABLE_RETRY_AFTER_SECONDS)
        return HttpResponse("database unavailable\n", status=503, headers={"Retry-After": retry_after})
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
