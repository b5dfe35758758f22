"""Admin of environments, their API keys and their members. Environments and members are the operators' pages;
API keys are also the owners' (each environment's owners make and remove its keys, choosing their scope, and see a
new key once). Changes of keys and members go through the services, which the audit log hears of."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from tenancy.models import ApiKey, Environment, Member
from tenancy.selectors import api_key_of
from tenancy.services import api_key_create, api_key_delete, member_remove, member_set
from tenancy.sign_in import WorkbenchLoginForm
from tenancy.workbench import EnvironmentScopedAdmin, owned_environment_ids


class ApiKeyInline(admin.TabularInline):
    """The environment's keys, read only here: made and removed on the API keys page."""

    model = ApiKey
    fields = ["prefix", "scope", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class MemberInline(admin.TabularInline):
    """The environment's members, read only here: added, changed and removed on the members page."""

    model = Member
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    inlines = [MemberInline, ApiKeyInline]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "environment", "role", "created_at"]
    list_filter = ["role", "environment"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "environment"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        member, _ = member_set(environment=obj.environment, username=obj.user.get_username(), role=obj.role)
        obj.pk = member.pk

    def delete_model(self, request, obj):
        member_remove(member=obj)

    def delete_queryset(self, request, queryset):
        for member in queryset.select_related("user", "environment"):
            member_remove(member=member)


class ApiKeyForm(forms.ModelForm):
    """Makes the key through the service as the form's last check; the key itself is then `self.key`."""

    class Meta:
        model = ApiKey
        fields = ["environment", "scope"]

    def _post_clean(self):
        if self._errors:
            return
        try:
            self.key = api_key_create(environment=self.cleaned_data["environment"], scope=self.cleaned_data["scope"])
        except ValidationError as error:
            self._update_errors(error)
            return
        self.instance = api_key_of(key=self.key)


@admin.register(ApiKey)
class ApiKeyAdmin(EnvironmentScopedAdmin):
    form = ApiKeyForm
    list_display = ["__str__", "environment_name", "scope", "created_at"]
    list_filter = ["scope"]
    list_select_related = ["environment"]
    readonly_fields = ["prefix", "environment_name", "scope", "created_at"]
    actions = None

    def get_fields(self, request, obj=None):
        return ["environment", "scope"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def _owned(self, request) -> list:
        return owned_environment_ids(request)

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(environment__in=self._owned(request))

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(self._owned(request))

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        owned = self._owned(request)
        return bool(owned) if obj is None else obj.environment_id in owned

    def has_add_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "environment" and not request.user.is_superuser:
            owned = self._owned(request)
            kwargs["queryset"] = Environment.objects.filter(pk__in=owned)
            if len(owned) == 1:
                kwargs["initial"] = owned[0]
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Saved already: the form made the key (ApiKeyForm)."""

    def response_add(self, request, obj, post_url_continue=None):
        """The key, shown this once: only its hash is kept."""
        context = {
            **self.admin_site.each_context(request),
            "title": "New API key",
            "opts": self.model._meta,
            "api_key": obj,
            "key": request._api_key_made,
        }
        return TemplateResponse(request, "tenancy/api_key_created.html", context)

    def save_form(self, request, form, change):
        request._api_key_made = form.key
        return form.instance

    def save_related(self, request, form, formsets, change):
        """A key has nothing related to save."""

    def delete_model(self, request, obj):
        api_key_delete(api_key=obj)


# The Workbench's login asks for a two-factor code and offers single sign-on (tenancy/sign_in.py, tenancy/sso.py).
admin.site.login_form = WorkbenchLoginForm
admin.site.login_template = "tenancy/login.html"
