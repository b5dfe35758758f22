from django.db import migrations

from subscriptions.event_catalog import PLATFORM_EVENT_TYPES


def seed(apps, schema_editor):
    EventType = apps.get_model("subscriptions", "EventType")
    for name, description in PLATFORM_EVENT_TYPES.items():
        EventType.objects.update_or_create(name=name, defaults={"origin": "platform", "description": description})


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
