"""Prometheus metrics at a cost that does not grow with the tables: running totals kept as outcomes are recorded
(delivery/counters.py), counts bounded by partial indexes, and the latest attempts' latency."""

import datetime
import hmac
import statistics

from django.conf import settings
from django.db.models.functions import Now
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from credentials.selectors import tls_credentials_expiring
from delivery.counters import counter_totals
from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.models import Subscription

LATENCY_SAMPLE = 1000
# Counts of waiting and sending deliveries stop here (an index-only scan of at most this many entries); a gauge at
# this value means at least this many.
COUNT_CAP = 10000


def _bounded_count(queryset, *, field: str) -> int:
    return queryset.values_list(field)[:COUNT_CAP].count()


def metrics_token_accepts(*, token: str, authorization: str) -> bool:
    """Whether a request's Authorization header carries the metrics bearer token (no token set: anyone may read)."""
    if not token:
        return True
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class OutflowCollector:
    def collect(self):
        outcomes = CounterMetricFamily(
            "outflow_deliveries",
            "Deliveries by outcome since the database was made: created, succeeded, failed (for good), skipped, and "
            "retried (a failed attempt with retries left).",
            labels=["outcome"],
        )
        for outcome, total in counter_totals().items():
            outcomes.add_metric([outcome], total)
        yield outcomes
        waiting = Delivery.objects.filter(status__in=(Delivery.Status.PENDING, Delivery.Status.RETRYING))
        yield GaugeMetricFamily(
            "outflow_deliveries_due",
            f"Deliveries due for an attempt now (the queue depth; counted up to {COUNT_CAP}).",
            value=_bounded_count(waiting.filter(next_attempt_at__lte=Now()), field="next_attempt_at"),
        )
        yield GaugeMetricFamily(
            "outflow_deliveries_waiting",
            f"Deliveries pending or awaiting a retry, due or not (counted up to {COUNT_CAP}).",
            value=_bounded_count(waiting, field="next_attempt_at"),
        )
        yield GaugeMetricFamily(
            "outflow_deliveries_sending",
            f"Deliveries claimed by a worker now (counted up to {COUNT_CAP}).",
            value=_bounded_count(
                Delivery.objects.filter(status=Delivery.Status.SENDING, lease_expires_at__isnull=False),
                field="lease_expires_at",
            ),
        )
        yield GaugeMetricFamily(
            "outflow_subscriptions_paused",
            "Paused subscriptions.",
            value=Subscription.objects.filter(status=Subscription.Status.PAUSED).count(),
        )
        durations = list(RequestLog.objects.order_by("-id").values_list("duration_ms", flat=True)[:LATENCY_SAMPLE])
        latency = GaugeMetricFamily(
            "outflow_attempt_latency_seconds",
            f"Attempt latency over the latest {LATENCY_SAMPLE} attempts.",
            labels=["quantile"],
        )
        if len(durations) >= 2:
            cuts = statistics.quantiles(durations, n=100, method="inclusive")
            for quantile, cut in (("0.5", cuts[49]), ("0.95", cuts[94]), ("0.99", cuts[98])):
                latency.add_metric([quantile], cut / 1000)
        yield latency
        yield _tls_expiring()


def _tls_expiring() -> GaugeMetricFamily:
    days = settings.OUTFLOW_TLS_EXPIRY_WARNING_DAYS
    gauge = GaugeMetricFamily(
        "outflow_tls_certificate_expires_in_seconds",
        f"TLS credentials whose client certificate expires within {days} days: seconds left (negative: expired).",
        labels=["environment", "credential", "name"],
    )
    now = timezone.now()
    for credential, expires_at in tls_credentials_expiring(before=now + datetime.timedelta(days=days)):
        gauge.add_metric(
            [str(credential.environment_id), str(credential.pk), credential.name], (expires_at - now).total_seconds()
        )
    return gauge
