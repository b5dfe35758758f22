"""Remove what is past its retention now, as beat does hourly, and print one JSON line of counts."""

import json

from django.core.management.base import BaseCommand

from delivery.retention import expired_purge


class Command(BaseCommand):
    help = (
        "Delete events (with their finished deliveries) and notifications older than OUTFLOW_EVENT_RETENTION_DAYS and"
        " request log rows older than OUTFLOW_REQUEST_LOG_RETENTION_DAYS and audit log entries older than"
        " OUTFLOW_AUDIT_LOG_RETENTION_DAYS, in small batches; print the counts as JSON."
    )

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(expired_purge().as_dict()))
