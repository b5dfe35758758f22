"""One row per attempt to reach a subscription's endpoint, stored already redacted."""

from django.db import models

from subscriptions.models import Subscription

# An attempt's outcome, defined once: a 2xx answer is success; anything else, and no answer (NULL status), failure.
SUCCESS = models.Q(response_status__gte=200, response_status__lt=300)
FAILURE = (
    models.Q(response_status__isnull=True) | models.Q(response_status__lt=200) | models.Q(response_status__gte=300)
)


class RequestLog(models.Model):
    # No index of its own: requestlog_newest_first leads with it (and a second one only made the planner choose).
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="request_logs", db_index=False
    )
    delivery_id = models.UUIDField(null=True, blank=True, db_index=True)
    attempt = models.PositiveIntegerField(default=1)
    is_test = models.BooleanField(default=False)
    method = models.CharField(max_length=8)
    url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    request_body_size = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    response_body_size = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A subscription's log newest first, ties by id: the order of its page and cursor. Without id in it the
            # planner sorted all of a quiet subscription's rows for each page (or walked every subscription's).
            models.Index(fields=["subscription", "-created_at", "-id"], name="requestlog_newest_first"),
            # The failures alone, in the same order: an environment's failures newest first (the Workbench's outcome
            # filter) come from its subscriptions' few failed rows, where the planner otherwise walked the whole
            # table's date index for them (bench/workbench_pages.py --bulk-rows, docs/WORKBENCH.md).
            models.Index(
                fields=["subscription", "-created_at", "-id"], name="requestlog_failed_newest_first", condition=FAILURE
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.url} → {self.response_status or self.error}"

    @property
    def succeeded(self) -> bool:
        """A 2xx answer: requestlog.selectors.SUCCESS in Python."""
        return self.response_status is not None and 200 <= self.response_status < 300
