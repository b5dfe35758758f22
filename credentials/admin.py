"""Admin of credentials: settings shown, secret values never (only whether each is set)."""

from django.contrib import admin

from credentials.models import Credential
from credentials.types import CREDENTIAL_FIELDS


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "environment", "created_at"]
    list_filter = ["type"]
    fields = ["name", "type", "environment", "settings", "secret_values", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Secret values")
    def secret_values(self, credential: Credential) -> str:
        names = [name for name, spec in CREDENTIAL_FIELDS[credential.type].items() if spec.secret]
        return ", ".join(f"{name}: {'********' if credential.secrets.get(name) else 'not set'}" for name in names)
