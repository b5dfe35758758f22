"""The audit log: one row per change of configuration, written by the service that makes the change, in its
transaction. Rows are never changed; only retention deletes them (audit/retention.py), and on PostgreSQL a trigger
(migration 0001) refuses any other UPDATE or DELETE."""

from django.db import models
from django.utils import timezone

from tenancy.actors import TYPES
from tenancy.models import Environment


class AuditEntry(models.Model):
    # No foreign key constraint: the entries of an environment outlive it, until retention.
    environment = models.ForeignKey(
        Environment, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor_type = models.CharField(max_length=16, choices=[(name, name) for name in TYPES], editable=False)
    actor_id = models.CharField(max_length=64, blank=True, editable=False)
    actor_name = models.CharField(max_length=200, editable=False)
    # "subscription.updated", "api_key.created", …: the object's type, a dot, what happened to it.
    action = models.CharField(max_length=64, editable=False)
    object_type = models.CharField(max_length=32, editable=False)
    object_id = models.CharField(max_length=64, editable=False)
    object_name = models.CharField(max_length=200, editable=False)
    # {"field": [before, after]}, secrets masked and mapping sources summed up (audit/changes.py).
    changes = models.JSONField(default=dict, editable=False)

    class Meta:
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["environment", "-created_at", "-id"], name="audit_environment_newest"),
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object_newest"),
            models.Index(fields=["created_at"], name="audit_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} of {self.object_name} by {self.actor_name}"
