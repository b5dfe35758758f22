"""Request log rows as they are stored: masked, redacted unless a test, copied without a model instance each."""

from typing import NamedTuple

import pytest

from config.copy_insert import copy_rows
from outbound.masking import MASK
from requestlog.models import RequestLog
from requestlog.services import request_log_entry, request_logs_store
from subscriptions.services import subscription_create


def _entry(subscription, *, is_test: bool):
    return request_log_entry(
        subscription_id=subscription.pk,
        delivery_id=None,
        attempt=2,
        is_test=is_test,
        method="POST",
        url="https://hooks.example.com/in?token=t0ken-value&page=1",
        request_headers={"Authorization": "Bearer s3cret", "X-Team": "growth"},
        request_body=b'{"event": "x"}',
        response_status=502,
        response_headers={"Set-Cookie": "session=abc", "Content-Type": "text/plain"},
        response_body=b"bad gateway",
        response_body_size=11,
        duration_ms=7,
        error=None,
    )


def test_stored_rows_are_masked_and_redacted_unless_a_test(environment, receiver):
    subscription = subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url=receiver.url("/in")
    )

    request_logs_store(entries=[_entry(subscription, is_test=False), _entry(subscription, is_test=True)])

    delivered, tested = RequestLog.objects.order_by("is_test")
    for row in (delivered, tested):
        assert row.subscription_id == subscription.pk and row.attempt == 2 and row.response_status == 502
        assert row.url == f"https://hooks.example.com/in?token={MASK}&page=1"
        assert row.request_headers == {"Authorization": MASK, "X-Team": "growth"}
        assert row.response_headers["Set-Cookie"] == MASK and row.created_at is not None
        assert (row.request_body_size, row.response_body_size, row.duration_ms) == (14, 11, 7)
    assert "s3cret" not in delivered.request_body and "bad gateway" not in delivered.response_body
    assert tested.request_body == '{"event": "x"}' and tested.response_body == "bad gateway"


def test_rows_that_leave_out_a_column_are_refused_before_anything_is_written(environment):
    class Partial(NamedTuple):
        subscription_id: object
        method: str

    with pytest.raises(ValueError, match="lack"):
        copy_rows(RequestLog, [Partial(subscription_id=None, method="POST")])
    assert not RequestLog.objects.exists()
