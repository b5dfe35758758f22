"""Admin of environments, their API keys and their members: the operators' pages (members see none of them)."""

from django.contrib import admin

from tenancy.models import ApiKey, Environment, Member
from tenancy.sign_in import WorkbenchLoginForm


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["prefix", "created_at"]
    readonly_fields = ["prefix", "created_at"]
    extra = 0
    can_delete = True

    def has_add_permission(self, request, obj=None):
        return False


class MemberInline(admin.TabularInline):
    model = Member
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    inlines = [MemberInline, ApiKeyInline]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "environment", "role", "created_at"]
    list_filter = ["role", "environment"]


# The Workbench's login asks for a two-factor code and offers single sign-on (tenancy/sign_in.py, tenancy/sso.py).
admin.site.login_form = WorkbenchLoginForm
admin.site.login_template = "tenancy/login.html"
