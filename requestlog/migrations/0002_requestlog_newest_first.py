"""The request log's page index gains id (the order's tie-break); built, and the old one dropped, concurrently."""

from django.db import migrations, models

from config.index_operations import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction. A build that fails leaves an INVALID index behind:
    # drop it and migrate again.
    atomic = False

    dependencies = [
        ("requestlog", "0001_initial"),
    ]

    operations = [
        AddIndexOnline(
            model_name="requestlog",
            index=models.Index(fields=["subscription", "-created_at", "-id"], name="requestlog_newest_first"),
        ),
        RemoveIndexOnline(model_name="requestlog", name="requestlog__subscri_722e18_idx"),
    ]
