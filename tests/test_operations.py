"""Operator endpoints: health, Prometheus metrics, and the OpenAPI schema and docs."""

from django.test import override_settings

from delivery.ingest import events_ingest
from subscriptions.services import subscription_create, subscription_pause
from tests.factories import event


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "cache": "ok"}


def test_healthz_names_a_broker_that_is_down(client, db, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "down", "cache": "ok"}


def test_metrics_count_deliveries_and_paused_subscriptions(client, environment):
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url="http://127.0.0.1:9/"
    )
    events_ingest(environment=environment, raw_events=[event(), event()])
    subscription_pause(subscription=subscription, reason="test")
    text = client.get("/metrics").content.decode()
    assert 'outflow_deliveries_total{outcome="created"} 2.0' in text
    assert 'outflow_deliveries_total{outcome="succeeded"} 0.0' in text
    assert "outflow_deliveries_due 2.0" in text
    assert "outflow_deliveries_waiting 2.0" in text
    assert "outflow_subscriptions_paused 1.0" in text


def test_metrics_count_outcomes_as_they_are_recorded(client, environment, receiver, attempt_pending):
    receiver.script("/ok", statuses=[204])
    receiver.script("/down", statuses=[500])
    for name, path in (("ok", "/ok"), ("down", "/down")):
        subscription_create(environment=environment, name=name, event_types=["card-completed"], url=receiver.url(path))
    events_ingest(environment=environment, raw_events=[event(), event(), event()])
    attempt_pending()
    text = client.get("/metrics").content.decode()
    assert 'outflow_deliveries_total{outcome="created"} 6.0' in text
    assert 'outflow_deliveries_total{outcome="succeeded"} 3.0' in text
    assert 'outflow_deliveries_total{outcome="retried"} 3.0' in text


@override_settings(OUTFLOW_METRICS_TOKEN="m-token-1")
def test_metrics_ask_for_the_bearer_token_when_one_is_set(client, db):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer m-token-1")
    assert response.status_code == 200 and b"outflow_deliveries_total" in response.content


def test_metrics_read_no_more_rows_with_many_deliveries(client, environment, django_assert_max_num_queries):
    subscription_create(environment=environment, name="sink", event_types=["card-completed"], url="http://127.0.0.1:9/")
    events_ingest(environment=environment, raw_events=[event() for _ in range(50)])
    # The seventh reads the TLS credentials (their certificates' expiry), which do not grow with traffic.
    with django_assert_max_num_queries(7):
        assert client.get("/metrics").status_code == 200


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


def test_the_schema_documents_the_error_envelope_of_every_operation(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ingest = schema["paths"]["/api/v1/events/"]["post"]["responses"]
    assert {"400", "401", "409", "413", "429", "503"} <= set(ingest)
    assert ingest["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert "404" in schema["paths"]["/api/v1/subscriptions/{id}/"]["get"]["responses"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
