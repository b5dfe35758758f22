"""Deliveries through the egress proxy (a real squid): a proxy that is down holds them back without counting an
attempt or opening the endpoint's circuit, and they arrive once it is back."""

from django.test import override_settings
from django.utils import timezone

from delivery.coordination import coordination
from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from requestlog.models import RequestLog
from tests.delivery.steps import attempt
from tests.factories import event
from tests.squid_proxy import SquidProxy


def test_a_proxy_that_is_down_makes_deliveries_wait_uncounted_until_it_is_back(delivery, receiver):
    proxy = SquidProxy(start=False)
    try:
        with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=proxy.url, OUTFLOW_PROXY_RETRY_SECONDS=30):
            end = subscription_drain(subscription_id=delivery.subscription_id)
            waiting = Delivery.objects.get()
            assert (waiting.status, waiting.attempts, waiting.last_error) == (Delivery.Status.PENDING, 0, "")
            # Still due: the drain comes back after the proxy's retry time; no circuit, no log row, no attempt.
            assert waiting.next_attempt_at <= timezone.now()
            assert (end.deferral.reason, end.deferral.seconds) == ("egress_proxy", 30)
            assert coordination().rest(subscription_id=delivery.subscription_id) is None
            assert RequestLog.objects.count() == 0 and receiver.received() == []

            proxy.start()
            attempt(delivery)
    finally:
        proxy.close()
    done = Delivery.objects.get()
    assert (done.status, done.attempts, done.last_status_code) == (Delivery.Status.SUCCEEDED, 1, 204)
    assert len(receiver.received("/hook")) == 1 and RequestLog.objects.get().attempt == 1


def test_deliveries_through_the_proxy_show_in_its_access_log(environment, subscription, receiver, squid):
    receiver.script("/hook", statuses=[204], headers={"Connection": "close"})
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=squid.url):
        events_ingest(environment=environment, raw_events=[event(), event()])
        attempt(*Delivery.objects.order_by("created_at"))
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    lines = squid.wait_for_log(f"CONNECT 127.0.0.1:{receiver.port}")
    assert len(lines) >= 1 and len(receiver.received("/hook")) == 2
