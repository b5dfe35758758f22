"""Management commands act as the operator who ran them: what they change is written with that actor."""

import json
from io import StringIO

from django.core.management import call_command

from audit.models import AuditEntry


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_each_command_that_changes_configuration_names_itself_as_the_operator(environment):
    made = json.loads(_run("create_environment", "globex"))
    _run("create_api_key", made["environment"], "--scope", "read")
    _run("create_member", made["environment"], "olive", "--role", "owner")
    entries = AuditEntry.objects.filter(environment_id=made["environment"]).order_by("id")
    assert [(entry.action, entry.actor_type) for entry in entries] == [
        ("api_key.created", "operator"),
        ("api_key.created", "operator"),
        ("member.added", "operator"),
    ]
    assert [entry.actor_name.split(" (")[0] for entry in entries] == [
        "manage.py create_environment",
        "manage.py create_api_key",
        "manage.py create_member",
    ]
    assert entries[1].changes["scope"] == [None, "read"]
    assert made["api_key"] not in json.dumps([entry.changes for entry in entries])
