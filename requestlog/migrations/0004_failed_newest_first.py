"""A subscription's failed attempts newest first, a partial index built concurrently: the request log's outcome filter
reads an environment's failures from it instead of walking the whole table's date index."""

from django.db import migrations, models

from config.index_operations import AddIndexOnline


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction. A build that fails leaves an INVALID index behind: drop it
    # and migrate again.
    atomic = False

    dependencies = [
        ("requestlog", "0003_subscription_index_dropped"),
    ]

    operations = [
        AddIndexOnline(
            model_name="requestlog",
            index=models.Index(
                condition=models.Q(
                    ("response_status__isnull", True),
                    ("response_status__lt", 200),
                    ("response_status__gte", 300),
                    _connector="OR",
                ),
                fields=["subscription", "-created_at", "-id"],
                name="requestlog_failed_newest_first",
            ),
        ),
    ]
