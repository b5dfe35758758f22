"""Operator endpoints: /healthz (database and broker) and /metrics (Prometheus text)."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from config.celery import app
from delivery.metrics import OutflowCollector


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def healthz(request):
    checks = {"database": "ok" if _database_ok() else "down", "broker": "ok" if _broker_ok() else "down"}
    return JsonResponse(checks, status=200 if all(value == "ok" for value in checks.values()) else 503)


def metrics(request):
    registry = CollectorRegistry()
    registry.register(OutflowCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
