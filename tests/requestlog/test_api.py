"""The request log: redaction before storage, masking, filters, one entry, isolation, retention."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.ingest import events_ingest
from delivery.models import Delivery
from requestlog.models import RequestLog
from requestlog.services import request_logs_purge
from subscriptions.services import subscription_create
from tests import secrets
from tests.factories import event


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment,
        name="sink",
        event_types=["card-completed"],
        url=receiver.url("/hook"),
        headers={"X-Api-Key": secrets.HEADER_SECRET, "X-Team": "growth"},
        max_retries=3,
    )


def _deliver(attempt_pending, environment, statuses: list[int], receiver) -> None:
    receiver.script("/hook", statuses=statuses, body=b'{"reply": "body"}')
    events_ingest(environment=environment, raw_events=[event() for _ in statuses])
    attempt_pending()


def test_delivery_entries_are_redacted_and_masked(attempt_pending, api, environment, subscription, receiver):
    _deliver(attempt_pending, environment, [200], receiver)
    [entry] = api.get(f"/api/v1/subscriptions/{subscription.pk}/requests").json()["results"]
    assert entry["test"] is False and entry["response_status"] == 200 and entry["attempt"] == 1
    assert entry["request_body"] == "[redacted]" and entry["response_body"] == "[redacted]"
    assert entry["request_body_size"] > 0 and entry["response_body_size"] == len(b'{"reply": "body"}')
    assert entry["request_headers"]["webhook-signature"] == "********"
    assert entry["request_headers"]["X-Api-Key"] == "********"
    assert entry["request_headers"]["X-Team"] == "growth"
    assert entry["delivery"] == str(Delivery.objects.get().pk)
    assert api.get(f"/api/v1/requests/{entry['id']}").json() == entry


def test_send_test_entries_keep_bodies_and_mask_secrets(api, subscription, receiver):
    receiver.script("/hook", statuses=[200], body=b'{"reply": "body"}')
    entry = api.post(f"/api/v1/subscriptions/{subscription.pk}/test").json()
    assert entry["test"] is True and entry["delivery"] is None
    assert '"test":true' in entry["request_body"] and entry["response_body"] == '{"reply": "body"}'
    assert entry["request_headers"]["webhook-signature"] == "********"
    assert entry["request_headers"]["X-Api-Key"] == "********"


def test_filters_by_outcome_and_test(attempt_pending, api, environment, subscription, receiver):
    _deliver(attempt_pending, environment, [200, 500], receiver)
    receiver.script("/hook", statuses=[200])
    api.post(f"/api/v1/subscriptions/{subscription.pk}/test")
    path = f"/api/v1/subscriptions/{subscription.pk}/requests"

    def statuses(query: str) -> list:
        return sorted(
            (entry["response_status"] for entry in api.get(path + query).json()["results"]),
            key=lambda status: (status is None, status),
        )

    RequestLog.objects.create(subscription=subscription, method="POST", url="u", error="connection error: refused")
    assert statuses("") == [200, 200, 500, None]
    assert statuses("?outcome=success") == [200, 200]
    assert statuses("?outcome=failure") == [500, None]
    assert statuses("?test=true") == [200]
    assert statuses("?test=false") == [200, 500, None]
    assert statuses("?outcome=success&test=false") == [200]


def test_newest_first_and_time_range(attempt_pending, api, environment, subscription, receiver):
    _deliver(attempt_pending, environment, [200, 200], receiver)
    old, new = RequestLog.objects.order_by("id")
    RequestLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    path = f"/api/v1/subscriptions/{subscription.pk}/requests"
    assert [entry["id"] for entry in api.get(path).json()["results"]] == [new.pk, old.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert [entry["id"] for entry in api.get(path, {"since": since}).json()["results"]] == [new.pk]
    assert [entry["id"] for entry in api.get(path, {"until": since}).json()["results"]] == [old.pk]


@pytest.mark.parametrize("query", ["?outcome=maybe", "?test=perhaps", "?since=yesterday"])
def test_bad_filters_are_400(api, subscription, query):
    response = api.get(f"/api/v1/subscriptions/{subscription.pk}/requests{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_another_environment_sees_404(attempt_pending, api, other_api, environment, subscription, receiver):
    _deliver(attempt_pending, environment, [200], receiver)
    entry = RequestLog.objects.get()
    assert other_api.get(f"/api/v1/requests/{entry.pk}").status_code == 404
    assert other_api.get(f"/api/v1/subscriptions/{subscription.pk}/requests").status_code == 404
    assert other_api.post(f"/api/v1/subscriptions/{subscription.pk}/test").status_code == 404
    assert api.get(f"/api/v1/requests/{entry.pk}").status_code == 200


def test_retention_purges_old_rows_in_batches(attempt_pending, environment, subscription, receiver):
    _deliver(attempt_pending, environment, [200, 200, 200], receiver)
    old_ids = list(RequestLog.objects.order_by("id").values_list("pk", flat=True)[:2])
    RequestLog.objects.filter(pk__in=old_ids).update(created_at=timezone.now() - timedelta(days=31))
    assert request_logs_purge(older_than=timezone.now() - timedelta(days=30), batch_size=1) == 2
    assert RequestLog.objects.count() == 1
