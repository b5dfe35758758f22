"""List pagination: limits capped at 1000; the deliveries and request log lists by cursor, payloads unread."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.pagination import LimitOffset, NewestFirstCursor
from delivery.ingest import events_ingest
from delivery.models import Delivery
from subscriptions.services import subscription_create
from tests.factories import event


def test_a_limit_beyond_1000_is_capped():
    request = Request(APIRequestFactory().get("/api/v1/subscriptions?limit=1000000"))
    assert LimitOffset().get_limit(request) == 1000
    assert NewestFirstCursor().get_page_size(request) == 1000


def test_a_huge_limit_is_answered(api, environment):
    subscription_create(environment=environment, name="s", event_types=["card-completed"], url="http://127.0.0.1:9/")
    page = api.get("/api/v1/subscriptions?limit=1000000").json()
    assert page["count"] == 1 and len(page["results"]) == 1


def test_deliveries_are_listed_newest_first_page_by_page_without_payloads(api, environment):
    subscription = subscription_create(
        environment=environment, name="s", event_types=["card-completed"], url="http://127.0.0.1:9/"
    )
    events_ingest(environment=environment, raw_events=[event() for _ in range(5)])
    path = f"/api/v1/subscriptions/{subscription.pk}/deliveries?limit=2"
    seen = []
    with CaptureQueriesContext(connection) as queries:
        page = api.get(path).json()
    listing = [query["sql"] for query in queries.captured_queries if "delivery_delivery" in query["sql"]]
    assert listing and not any('"payload"' in sql for sql in listing)
    while True:
        seen.extend(row["id"] for row in page["results"])
        assert len(page["results"]) <= 2 and "count" not in page
        if not page["next"]:
            break
        page = api.get(page["next"]).json()
    expected = [str(pk) for pk in Delivery.objects.order_by("-created_at", "-id").values_list("pk", flat=True)]
    assert seen == expected


def test_the_request_log_is_listed_by_cursor(api, environment, receiver, attempt_pending):
    receiver.script("/ok", statuses=[204])
    subscription = subscription_create(
        environment=environment, name="s", event_types=["card-completed"], url=receiver.url("/ok")
    )
    events_ingest(environment=environment, raw_events=[event() for _ in range(3)])
    attempt_pending()
    first = api.get(f"/api/v1/subscriptions/{subscription.pk}/requests?limit=2").json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1 and second["next"] is None
    assert api.get(f"/api/v1/subscriptions/{subscription.pk}/requests?limit=5000").status_code == 200
