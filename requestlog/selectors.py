"""Read queries of the request log."""

from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from requestlog.models import FAILURE, SUCCESS, RequestLog


def request_logs_of(
    *,
    subscription,
    outcome: str | None = None,
    is_test: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
):
    """A subscription's request log, newest first; outcome is success (2xx) or failure (anything else)."""
    logs = RequestLog.objects.filter(subscription=subscription)
    if outcome == "success":
        logs = logs.filter(SUCCESS)
    elif outcome == "failure":
        logs = logs.filter(FAILURE)
    if is_test is not None:
        logs = logs.filter(is_test=is_test)
    if since is not None:
        logs = logs.filter(created_at__gte=since)
    if until is not None:
        logs = logs.filter(created_at__lt=until)
    return logs.order_by("-created_at", "-id")


def request_log_of_environment(*, environment, pk: int) -> RequestLog | None:
    return RequestLog.objects.filter(subscription__environment=environment, pk=pk).first()


def request_log_hourly(
    *, subscription, hours: int = 24, now: datetime | None = None
) -> list[tuple[datetime, int, int]]:
    """(hour, successes, failures) for each of the last `hours` hours, oldest first."""
    now = now or timezone.now()
    last_hour = now.replace(minute=0, second=0, microsecond=0)
    first_hour = last_hour - timedelta(hours=hours - 1)
    counts = {
        row["hour"]: (row["successes"], row["total"] - row["successes"])
        for row in RequestLog.objects.filter(subscription=subscription, created_at__gte=first_hour)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(total=Count("pk"), successes=Count("pk", filter=SUCCESS))
    }
    hours_list = [first_hour + timedelta(hours=index) for index in range(hours)]
    return [(hour, *counts.get(hour, (0, 0))) for hour in hours_list]


def request_log_latest_failure(*, subscription) -> RequestLog | None:
    return RequestLog.objects.filter(FAILURE, subscription=subscription).order_by("-created_at", "-id").first()


def subscriptions_with_request_stats(*, subscriptions: QuerySet, since: datetime) -> QuerySet:
    """Subscriptions annotated with their deliveries' attempts and successes since a time, and their last attempt.

    Subqueries in the select list, so that only the rows of the page shown are counted, each over the
    (subscription, -created_at) index; Send test requests do not count.
    """
    attempts = RequestLog.objects.filter(subscription=OuterRef("pk"), is_test=False)
    recent = attempts.filter(created_at__gte=since).order_by().values("subscription")
    last = attempts.order_by("-created_at", "-id")
    return subscriptions.annotate(
        attempts_since=Coalesce(Subquery(recent.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0),
        successes_since=Coalesce(
            Subquery(recent.filter(SUCCESS).annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
        ),
        last_attempt_at=Subquery(last.values("created_at")[:1]),
        last_attempt_status=Subquery(last.values("response_status")[:1]),
    )
