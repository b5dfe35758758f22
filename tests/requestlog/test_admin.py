"""The Workbench's request log: one subscription's entries newest first, outcome and test filters, redacted entries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbound.masking import MASK
from requestlog.models import RequestLog
from subscriptions.services import subscription_create
from tests.factories import member_client

LIST = "/admin/requestlog/requestlog/"


@pytest.fixture
def viewer(environment):
    return member_client(environment, "vi", role="viewer")


@pytest.fixture
def entries(environment):
    sink = subscription_create(
        environment=environment, name="Sink", event_types=["card-completed"], url="http://127.0.0.1:9/a"
    )
    other = subscription_create(
        environment=environment, name="Other", event_types=["card-completed"], url="http://127.0.0.1:9/b"
    )
    now = timezone.now()
    made = {}
    for name, subscription, status, is_test, minutes in [
        ("old_ok", sink, 200, False, 30),
        ("new_fail", sink, 500, False, 10),
        ("test", sink, 204, True, 5),
        ("other", other, 200, False, 1),
    ]:
        entry = RequestLog.objects.create(
            subscription=subscription,
            method="POST",
            url=subscription.url,
            is_test=is_test,
            response_status=status,
            request_headers={"webhook-signature": MASK, "x-team": "growth"},
            request_body='{"test":true}' if is_test else "[redacted]",
            request_body_size=13,
        )
        RequestLog.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=minutes))
        made[name] = entry
    made["sink"] = sink
    return made


def _row_ids(response) -> list[int]:
    return [entry.pk for entry in response.context["cl"].result_list]


def test_opened_from_a_subscription_it_shows_its_entries_newest_first(viewer, entries):
    response = viewer.get(f"{LIST}?subscription__id__exact={entries['sink'].pk}")
    assert _row_ids(response) == [entries["test"].pk, entries["new_fail"].pk, entries["old_ok"].pk]
    assert _row_ids(viewer.get(LIST))[0] == entries["other"].pk


def test_outcome_and_test_filters(viewer, entries):
    sink = f"subscription__id__exact={entries['sink'].pk}"
    assert _row_ids(viewer.get(f"{LIST}?{sink}&outcome=failure")) == [entries["new_fail"].pk]
    assert _row_ids(viewer.get(f"{LIST}?{sink}&outcome=success")) == [entries["test"].pk, entries["old_ok"].pk]
    assert _row_ids(viewer.get(f"{LIST}?{sink}&test=true")) == [entries["test"].pk]
    assert _row_ids(viewer.get(f"{LIST}?{sink}&test=false&outcome=success")) == [entries["old_ok"].pk]


def test_an_entry_shows_target_request_and_response_redacted_and_read_only(viewer, entries):
    page = viewer.get(f"{LIST}{entries['new_fail'].pk}/change/")
    text = page.content.decode()
    assert "POST http://127.0.0.1:9/a" in text and "[redacted]" in text and MASK in text and "growth" in text
    assert 'name="_save"' not in text
    assert viewer.get(f"{LIST}{entries['new_fail'].pk}/delete/").status_code == 403
