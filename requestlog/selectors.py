"""Read queries of the request log."""

from datetime import datetime

from requestlog.models import RequestLog


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
        logs = logs.filter(response_status__gte=200, response_status__lt=300)
    elif outcome == "failure":
        logs = logs.exclude(response_status__gte=200, response_status__lt=300)
    if is_test is not None:
        logs = logs.filter(is_test=is_test)
    if since is not None:
        logs = logs.filter(created_at__gte=since)
    if until is not None:
        logs = logs.filter(created_at__lt=until)
    return logs.order_by("-created_at", "-id")


def request_log_of_environment(*, environment, pk: int) -> RequestLog | None:
    return RequestLog.objects.filter(subscription__environment=environment, pk=pk).first()
