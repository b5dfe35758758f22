"""The delivery's own index on subscription goes: delivery_newest_first, delivery_waiting and the status index all
lead with the same column, and each index is one more entry written at every insert and at both of a delivery's
updates (the claim and the outcome change `status`, so neither is a HOT update)."""

from django.db import migrations, models

INDEX = "delivery_delivery_subscription_id_d175ba11"


def _drop(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {INDEX}")


def _create(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {INDEX} ON delivery_delivery (subscription_id)")


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("delivery", "0008_time_ordered_ids"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="subscription",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="deliveries",
                        to="subscriptions.subscription",
                    ),
                )
            ],
            database_operations=[migrations.RunPython(_drop, _create)],
        )
    ]
