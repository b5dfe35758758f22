"""The database is the queue: a delivery is due by its status and next_attempt_at alone, so `queued` goes, and the
index that found a subscription's parked rows gives way to one of its due rows (a drain's claim, the sweeper's look).

Every delivery in flight is kept: a pending or retrying row, queued or parked, is due by its next_attempt_at as it
was, and the sweeper wakes its subscription; a sending one is taken back when its lease runs out. Tasks of the old
release left in the broker name a task this release does not have: Celery drops them, and their rows go as above.
"""

from django.db import migrations, models

from config.index_operations import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    # CREATE and DROP INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("delivery", "0009_subscription_index_dropped"),
    ]

    operations = [
        AddIndexOnline(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "retrying"])),
                fields=["subscription", "next_attempt_at"],
                name="delivery_due_per_subscription",
            ),
        ),
        RemoveIndexOnline(model_name="delivery", name="delivery_waiting"),
        migrations.RemoveField(model_name="delivery", name="queued"),
    ]
