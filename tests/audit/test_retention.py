"""Retention alone removes audit entries: those older than OUTFLOW_AUDIT_LOG_RETENTION_DAYS go with the purge."""

import json
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from audit.retention import audit_entries_purge


def _made_days_ago(environment, days: int) -> AuditEntry:
    """An entry made `days` ago: inserted with its time, since nothing may change an entry afterwards."""
    return AuditEntry.objects.create(
        environment=environment,
        created_at=timezone.now() - timedelta(days=days),
        actor_type="system",
        actor_name="Outflow",
        action="subscription.paused",
        object_id="x",
        object_name="x",
    )


def test_the_purge_removes_entries_past_retention_and_keeps_the_rest(environment, settings):
    settings.OUTFLOW_AUDIT_LOG_RETENTION_DAYS = 365
    kept = _made_days_ago(environment, 364)
    old = [_made_days_ago(environment, 366), _made_days_ago(environment, 800)]
    out = StringIO()
    call_command("purge_expired", stdout=out)
    assert json.loads(out.getvalue())["audit_entries"] == 2
    assert not AuditEntry.objects.filter(pk__in=[entry.pk for entry in old]).exists()
    assert AuditEntry.objects.filter(pk=kept.pk).exists()


def test_purging_in_batches_goes_on_until_none_is_left(environment):
    for _ in range(5):
        _made_days_ago(environment, 400)
    assert audit_entries_purge(older_than=timezone.now() - timedelta(days=365), batch_size=2) == 5
    assert AuditEntry.objects.filter(environment=environment).count() == 1  # the first key's, made now


def test_outside_retention_the_database_still_refuses_a_delete(environment):
    entry = _made_days_ago(environment, 400)
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT before_delete")
        try:
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
            refused = False
        except Exception as error:  # the trigger's exception, as psycopg raises it
            refused = "cannot be changed or deleted" in str(error)
        cursor.execute("ROLLBACK TO SAVEPOINT before_delete")
    assert refused and AuditEntry.objects.filter(pk=entry.pk).exists()
