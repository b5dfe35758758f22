"""Operator endpoints: health, Prometheus metrics, and the OpenAPI schema and docs."""

from django.test import override_settings

from delivery.ingest import events_ingest
from subscriptions.services import subscription_create, subscription_pause
from tests.factories import event


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_healthz_names_a_broker_that_is_down(client, db, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "down"}


def test_metrics_count_deliveries_and_paused_subscriptions(client, environment):
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url="http://127.0.0.1:9/"
    )
    events_ingest(environment=environment, raw_events=[event(), event()])
    subscription_pause(subscription=subscription, reason="test")
    text = client.get("/metrics").content.decode()
    assert 'outflow_deliveries{status="pending"} 2.0' in text
    assert "outflow_deliveries_due 2.0" in text
    assert "outflow_subscriptions_paused 1.0" in text


@override_settings(DEBUG=False)
def test_openapi_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/events", "/api/v1/subscriptions", "/api/v1/export-settings", "/api/v1/event-types"):
        assert path in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    assert b"cdn." not in docs.content
