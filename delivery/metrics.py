"""Prometheus metrics read from the database at scrape time, so every web process sees every worker's work."""

import statistics

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.models import Subscription

LATENCY_SAMPLE = 1000


class OutflowCollector:
    def collect(self):
        by_status = GaugeMetricFamily("outflow_deliveries", "Deliveries by status.", labels=["status"])
        counts = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        for status in Delivery.Status.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily(
            "outflow_deliveries_due",
            "Deliveries due for an attempt now.",
            value=Delivery.objects.filter(
                status__in=(Delivery.Status.PENDING, Delivery.Status.RETRYING), next_attempt_at__lte=timezone.now()
            ).count(),
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
