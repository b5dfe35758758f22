"""Admin of environments, their API keys and their members. Environments are the operators' pages; API keys and
members are also the owners' (each environment's owners make and remove its keys, choosing their scope, and see a new
key once; they add members by username with a role, change roles and remove members). Changes of keys and members go
through the services, which the audit log hears of."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from tenancy.models import ApiKey, Environment, Member
from tenancy.selectors import api_key_of
from tenancy.services import (
    api_key_create,
    api_key_delete,
    member_add,
    member_removable_check,
    member_remove,
    member_role_change,
)
from tenancy.sign_in import WorkbenchLoginForm
from tenancy.workbench import OwnedScopedAdmin, workbench_environments_forget


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


class MemberAddForm(forms.ModelForm):
    """Adds the member through the service as the form's last check; a new user's password is then `self.password`."""

    username = forms.CharField(
        label="Username",
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Someone new gets a password, shown once on the next page. Someone who already works in another of"
        " your environments keeps their sign-in; an operator adds anyone else who has one.",
    )

    # The owner who adds, or None for an operator (MemberAdmin.get_form).
    by_owner = None

    class Meta:
        model = Member
        fields = ["environment", "username", "role"]
        labels = {"role": "Role"}

    def _post_clean(self):
        if self._errors:
            return
        data = self.cleaned_data
        try:
            self.instance, self.password = member_add(
                environment=data["environment"],
                username=data["username"],
                role=data["role"],
                by_owner=self.by_owner,
            )
        except ValidationError as error:
            self._update_errors(error)


class MemberRoleForm(forms.ModelForm):
    """Changes the role through the service as the form's last check, which keeps the environment an owner."""

    # Operators may leave an environment without an owner; its owners may not (MemberAdmin.get_form).
    keep_an_owner = True

    class Meta:
        model = Member
        fields = ["role"]
        labels = {"role": "Role"}

    def _post_clean(self):
        if self._errors:
            return
        try:
            self.instance = member_role_change(
                member=self.instance, role=self.cleaned_data["role"], keep_an_owner=self.keep_an_owner
            )
        except ValidationError as error:
            self._update_errors(error)


class ShownOnceAdmin(OwnedScopedAdmin):
    """An owners' page whose form saves through a service, as its last check, and whose add makes a secret with the
    object (the form's attribute named `shown_once`: a new user's password, a key): the page after the add shows it
    this once, from `shown_once_template`, with the object as `shown_once_object`. Only its hash is kept."""

    shown_once: str
    shown_once_object: str
    shown_once_title: str
    shown_once_template: str

    def save_form(self, request, form, change):
        request._shown_once = getattr(form, self.shown_once, None)
        return form.instance

    def save_model(self, request, obj, form, change):
        """Saved already: the form's last check was the service."""

    def save_related(self, request, form, formsets, change):
        """Nothing related to save."""

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": self.shown_once_title,
            "opts": self.model._meta,
            self.shown_once_object: obj,
            self.shown_once: request._shown_once,
        }
        return TemplateResponse(request, self.shown_once_template, context)


@admin.register(Member)
class MemberAdmin(ShownOnceAdmin):
    """The environment's members, managed by its owners: add by username with a role, change the role, remove.
    The environment's last owner stays one (the services refuse). A new user's password is shown once."""

    shown_once, shown_once_object = "password", "member"
    shown_once_title, shown_once_template = "New member", "tenancy/member_added.html"

    list_display = ["username", "environment_name", "role", "created_at"]
    list_select_related = ["user", "environment"]
    search_fields = ["user__username"]
    ordering = ["environment__name", "user__username"]
    actions = None

    def get_list_filter(self, request):
        return ["role", "environment"] if request.user.is_superuser else ["role"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["environment", "username", "role"]
        return ["username", "environment_name", "role", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["username", "environment_name", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MemberAddForm if obj is None else MemberRoleForm
        form = super().get_form(request, obj, change, **kwargs)
        form.keep_an_owner = not request.user.is_superuser
        form.by_owner = None if request.user.is_superuser else request.user
        return form

    @admin.display(description="Username", ordering="user__username")
    def username(self, member: Member) -> str:
        return member.user.get_username()

    def response_change(self, request, obj):
        return self._onward(request, obj) or super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        return self._onward(request, None) or super().response_delete(request, obj_display, obj_id)

    def _onward(self, request, obj):
        """An owner who made themselves an editor, or left, has no members page to go back to."""
        workbench_environments_forget(request)
        if self.has_view_permission(request, obj):
            return None
        messages.success(request, "You no longer own this environment.")
        return HttpResponseRedirect(reverse("admin:index"))

    def delete_view(self, request, object_id, extra_context=None):
        """The last owner is refused before the confirmation is offered, and again, locked, when it is confirmed."""
        member = self.get_object(request, unquote(object_id))
        keep_an_owner = not request.user.is_superuser
        try:
            if keep_an_owner:
                member_removable_check(member=member)
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as refusal:
            messages.error(request, f"Not removed: {' '.join(refusal.messages)}.")
            return HttpResponseRedirect(reverse("admin:tenancy_member_change", args=[member.pk]))

    def delete_model(self, request, obj):
        member_remove(member=obj, keep_an_owner=not request.user.is_superuser)


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
class ApiKeyAdmin(ShownOnceAdmin):
    """The environment's API keys, made and removed by its owners; a new key is shown once."""

    shown_once, shown_once_object = "key", "api_key"
    shown_once_title, shown_once_template = "New API key", "tenancy/api_key_created.html"
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

    def has_change_permission(self, request, obj=None):
        """A key is made and removed, never changed."""
        return False

    def delete_model(self, request, obj):
        api_key_delete(api_key=obj)


# The Workbench's login asks for a two-factor code and offers single sign-on (tenancy/sign_in.py, tenancy/sso.py).
admin.site.login_form = WorkbenchLoginForm
admin.site.login_template = "tenancy/login.html"
