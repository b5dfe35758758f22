"""Read queries of the audit log."""

from datetime import datetime

from django.db.models import QuerySet

from audit.models import AuditEntry


def audit_entries_of(
    *,
    environment_id,
    since: datetime | None = None,
    until: datetime | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_type: str | None = None,
    actor_id: str | None = None,
) -> QuerySet[AuditEntry]:
    """An environment's entries (ordered by the caller: newest first by the cursor), filtered."""
    entries = AuditEntry.objects.filter(environment_id=environment_id)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if actor_type:
        entries = entries.filter(actor_type=actor_type)
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    return entries


def audit_entries_of_object(*, object_type: str, object_id) -> QuerySet[AuditEntry]:
    """One object's history, newest first (its environment is the object's own)."""
    return AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("-created_at", "-id")
