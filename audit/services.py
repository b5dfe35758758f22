"""Writing the audit log. Called by the services that change configuration, inside their transaction."""

from audit.models import AuditEntry
from tenancy.actors import Actor, actor_current


def audit_record(
    *,
    environment_id,
    action: str,
    object_id,
    object_name: str,
    changes: dict | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """One entry: `action` is "<object type>.<what happened>"; the actor is the current one (tenancy/actors.py)
    unless given. `changes` must already be shown safely (audit/changes.py)."""
    actor = actor or actor_current()
    return AuditEntry.objects.create(
        environment_id=environment_id,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name[:200],
        action=action,
        object_type=action.split(".")[0],
        object_id=str(object_id),
        object_name=str(object_name)[:200],
        changes=changes or {},
    )
