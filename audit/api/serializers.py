"""Serializers of the audit log API: entries as API.md shows them, and the list's filters."""

from rest_framework import serializers

from audit.models import AuditEntry
from tenancy.actors import TYPES


class ActorSerializer(serializers.Serializer):
    type = serializers.CharField(source="actor_type", help_text="api_key, member, operator or system")
    id = serializers.CharField(source="actor_id")
    name = serializers.CharField(source="actor_name")


class AuditObjectSerializer(serializers.Serializer):
    type = serializers.CharField(source="object_type")
    id = serializers.CharField(source="object_id")
    name = serializers.CharField(source="object_name")


class AuditEntrySerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at")
    actor = ActorSerializer(source="*")
    object = AuditObjectSerializer(source="*")
    changes = serializers.DictField(child=serializers.ListField(min_length=2, max_length=2))

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "action", "object", "changes"]
        read_only_fields = fields


class AuditFilterSerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    object_type = serializers.CharField(required=False, max_length=32)
    actor = serializers.RegexField(
        rf"^({'|'.join(TYPES)})(:[^:]{{1,64}})?$",
        required=False,
        help_text="An actor type (api_key, member, operator, system), or a type and an id: `member:12`.",
        error_messages={"invalid": "an actor type, or a type and an id as type:id"},
    )
