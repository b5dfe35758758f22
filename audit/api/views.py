"""HTTP API of the audit log: the environment's entries, newest first, by cursor. Read only: the log has no way
to change or delete an entry (a PATCH or DELETE answers 405)."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView

from audit.api.serializers import AuditEntrySerializer, AuditFilterSerializer
from audit.selectors import audit_entries_of
from config.pagination import NewestFirstCursor


class AuditLogView(ListAPIView):
    serializer_class = AuditEntrySerializer
    pagination_class = NewestFirstCursor

    @extend_schema(parameters=[AuditFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        actor_type, _, actor_id = data.get("actor", "").partition(":")
        return audit_entries_of(
            environment_id=self.request.auth.pk,
            since=data.get("since"),
            until=data.get("until"),
            object_type=data.get("object_type"),
            actor_type=actor_type or None,
            actor_id=actor_id or None,
        )
