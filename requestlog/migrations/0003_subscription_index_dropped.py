"""The request log's own index on subscription goes: requestlog_newest_first leads with the same column."""

from django.db import migrations, models

INDEX = "requestlog_requestlog_subscription_id_ca2e811a"


def _drop(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {INDEX}")


def _create(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {INDEX} ON requestlog_requestlog (subscription_id)")


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("requestlog", "0002_requestlog_newest_first"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="requestlog",
                    name="subscription",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="request_logs",
                        to="subscriptions.subscription",
                    ),
                )
            ],
            database_operations=[migrations.RunPython(_drop, _create)],
        )
    ]
