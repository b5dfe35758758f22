"""Environments, API keys and members now belong to the tenancy app (its 0001 says how): state only, no table changes.

Every other app's foreign key to Environment points at tenancy's first, so nothing names the models deleted here."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0008_subscription_send_traceparent"),
        ("tenancy", "0001_initial"),
        ("credentials", "0002_environment_in_tenancy"),
        ("delivery", "0007_environment_in_tenancy"),
        ("notifications", "0002_environment_in_tenancy"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="exportsettings",
                    name="environment",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="export_settings",
                        to="tenancy.environment",
                    ),
                ),
                migrations.AlterField(
                    model_name="subscription",
                    name="environment",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="subscriptions",
                        to="tenancy.environment",
                    ),
                ),
                migrations.DeleteModel(name="ApiKey"),
                migrations.DeleteModel(name="Member"),
                migrations.DeleteModel(name="Environment"),
            ],
        ),
    ]
