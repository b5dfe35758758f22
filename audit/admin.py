"""The audit log in the Workbench: read only, for everyone (retention alone removes entries), scoped to the member's
environments; and the History of tenancy's API keys and members, whose admin this app extends (tenancy may not
import audit)."""

from django.contrib import admin

from audit.admin_history import AuditHistoryAdmin
from audit.models import AuditEntry
from tenancy.admin import ApiKeyAdmin, MemberAdmin
from tenancy.models import ApiKey, Member
from tenancy.workbench import EnvironmentScopedAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(EnvironmentScopedAdmin):
    list_display = ["created_at", "environment_name", "actor_shown", "action", "object_name"]
    list_filter = [("environment", admin.RelatedOnlyFieldListFilter), "object_type", "actor_type", "action"]
    list_select_related = ["environment"]
    search_fields = ["object_name", "object_id", "actor_name"]
    ordering = ["-created_at", "-id"]
    actions = None
    fields = ["created_at", "environment_name", "actor_shown", "action", "object_type", "object_id", "object_name"]
    readonly_fields = [*fields, "changes"]

    def get_fields(self, request, obj=None):
        return [*self.fields, "changes"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Actor", ordering="actor_name")
    def actor_shown(self, entry: AuditEntry) -> str:
        return f"{entry.actor_name} ({entry.actor_type})"


admin.site.unregister(ApiKey)
admin.site.unregister(Member)


@admin.register(ApiKey)
class AuditedApiKeyAdmin(AuditHistoryAdmin, ApiKeyAdmin):
    audit_object_type = "api_key"


@admin.register(Member)
class AuditedMemberAdmin(AuditHistoryAdmin, MemberAdmin):
    audit_object_type = "member"
