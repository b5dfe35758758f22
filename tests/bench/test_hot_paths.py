"""The hot paths' tables as the bench fills them: the empty side's few rows make full pages, as the full side's."""

from datetime import UTC, datetime, timedelta

import pytest

from bench.hot_paths import DAYS, PAGE, SEED_ROWS, _cursor, tables_fill
from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.services import subscription_create


@pytest.mark.django_db(transaction=True)
def test_the_seeded_empty_side_serves_full_pages_first_and_half_way_down(environment, api):
    subscription = subscription_create(
        environment=environment, name="hot", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )
    tables_fill(rows=SEED_ROWS, subscription=subscription, event_id_prefix="seed_")
    half_way = _cursor(datetime.now(UTC) - timedelta(days=DAYS / 2))
    for kind in ("deliveries", "requests"):
        path = f"/api/v1/subscriptions/{subscription.pk}/{kind}?limit={PAGE}"
        assert len(api.get(path).json()["results"]) == PAGE, kind
        assert len(api.get(f"{path}&cursor={half_way}").json()["results"]) == PAGE, kind

    # The full side's fill adds its own rows beside the seed's: one delivery and one request log row each.
    tables_fill(rows=100, subscription=subscription)
    assert Delivery.objects.filter(subscription=subscription).count() == SEED_ROWS + 100
    assert RequestLog.objects.filter(subscription=subscription).count() == SEED_ROWS + 100
    assert RequestLog.objects.values("delivery_id").distinct().count() == SEED_ROWS + 100
