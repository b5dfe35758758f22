"""The Workbench's access rule in the admin: members see their current environment's objects, editors change them.

Every model admin a member can reach derives from `EnvironmentScopedAdmin`: its queryset holds only the member's
current environment (chosen in the header among theirs), so another environment's object is as unknown as one that
does not exist (404), in Django's own pages, in custom views (through `get_object`) and in actions. Staff superusers
(operators) see and change everything.
"""

import uuid
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tenancy.models import Member
from tenancy.selectors import member_environments

# The session key of the member's current environment (the header's switcher sets it).
CURRENT_ENVIRONMENT_KEY = "workbench_environment"


@dataclass(frozen=True)
class WorkbenchEnvironment:
    id: uuid.UUID
    name: str
    role: str


def workbench_environments(request) -> list[WorkbenchEnvironment]:
    """Every environment the signed-in member belongs to, by name; read once per request."""
    if not hasattr(request, "workbench_environments"):
        rows = member_environments(user=request.user) if request.user.is_authenticated else []
        request.workbench_environments = [WorkbenchEnvironment(*row) for row in rows]
    return request.workbench_environments


def workbench_environments_forget(request) -> None:
    """Read the memberships again on next use: the member's own role has just changed."""
    request.__dict__.pop("workbench_environments", None)


def current_environment(request) -> WorkbenchEnvironment | None:
    """The environment the member works in: the one chosen in the header, else the first by name."""
    environments = workbench_environments(request)
    chosen = request.session.get(CURRENT_ENVIRONMENT_KEY) if hasattr(request, "session") else None
    for environment in environments:
        if str(environment.id) == chosen:
            return environment
    return environments[0] if environments else None


_EDITING_ROLES = (Member.Role.OWNER, Member.Role.EDITOR)


def roles_of(request) -> dict[uuid.UUID, str]:
    """The member's role in the current environment, by its id: every page and action holds to that environment."""
    current = current_environment(request)
    return {current.id: current.role} if current is not None else {}


def editable_environment_ids(request) -> list[uuid.UUID]:
    return [environment_id for environment_id, role in roles_of(request).items() if role in _EDITING_ROLES]


def owned_environment_ids(request) -> list[uuid.UUID]:
    return [environment_id for environment_id, role in roles_of(request).items() if role == Member.Role.OWNER]


class EnvironmentScopedAdmin(admin.ModelAdmin):
    # The lookup from this admin's model to its environment, for querysets ...
    environment_lookup = "environment"

    def object_environment_id(self, obj) -> uuid.UUID:
        """... and the environment of one object."""
        return obj.environment_id

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return self.scope_queryset(queryset, list(roles_of(request)))

    def scope_queryset(self, queryset, environment_ids: list[uuid.UUID]):
        """The rows of these environments only."""
        return queryset.filter(**{f"{self.environment_lookup}__in": environment_ids})

    def get_object(self, request, object_id, from_field=None):
        try:
            obj = super().get_object(request, object_id, from_field)
        except ValueError:
            obj = None
        if obj is None:
            raise Http404("no such object")
        return obj

    def lookup_allowed(self, lookup, value, request=None):
        """Only the list's own filters: a free lookup on a field such as `headers` would let a member read, a
        character at a time, values the pages mask."""
        if request is not None and request.user.is_superuser:
            return super().lookup_allowed(lookup, value, request)
        allowed = set()
        for list_filter in self.get_list_filter(request) if request is not None else self.list_filter:
            if isinstance(list_filter, tuple):
                list_filter = list_filter[0]
            if isinstance(list_filter, str):
                allowed.add(list_filter.split("__")[0])
            else:
                # A SimpleListFilter's one parameter, or a ListFilter's own (`parameters`).
                names = getattr(list_filter, "parameters", None) or [list_filter.parameter_name]
                allowed.update(name.split("__")[0] for name in names)
        return lookup.split("__")[0] in allowed and super().lookup_allowed(lookup, value, request)

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(roles_of(request))

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(roles_of(request))
        return self.object_environment_id(obj) in roles_of(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        editable = editable_environment_ids(request)
        return bool(editable) if obj is None else self.object_environment_id(obj) in editable

    def has_add_permission(self, request):
        return request.user.is_superuser or bool(editable_environment_ids(request))

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    @admin.display(description="Environment")
    def environment_name(self, obj) -> str:
        """The environment as text: a link would lead members to the operators' environment pages."""
        return str(obj.environment)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # A viewer's read-only page labels each field as the form does: Django reads Meta.labels there, not the fields.
        labels = {name: field.label for name, field in form.base_fields.items() if field.label}
        form._meta.labels = {**labels, **(form._meta.labels or {})}
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "environment" and not request.user.is_superuser:
            # A member adds objects only to the environments they edit.
            editable = editable_environment_ids(request)
            kwargs["queryset"] = db_field.related_model.objects.filter(pk__in=editable)
            if len(editable) == 1:
                kwargs["initial"] = editable[0]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeable_selection(self, request, queryset):
        """An action's objects, refused (403) when the member only reads some of them."""
        if request.user.is_superuser:
            return queryset
        editable = editable_environment_ids(request)
        if queryset.exclude(**{f"{self.environment_lookup}__in": editable}).exists():
            raise PermissionDenied
        return queryset

    def response_action(self, request, queryset):
        """Selected objects outside the member's environments answer 404, as their pages do."""
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if selected and not request.POST.get("select_across") == "1":
            try:
                keys = {self.model._meta.pk.to_python(value) for value in selected}
            except ValidationError as error:
                raise Http404("no such object") from error
            if self.get_queryset(request).filter(pk__in=keys).count() != len(keys):
                raise Http404("no such object")
        return super().response_action(request, queryset)


class ReadOnlyScopedAdmin(EnvironmentScopedAdmin):
    """Rows that members read and nobody changes here; only operators delete them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class OwnedScopedAdmin(EnvironmentScopedAdmin):
    """The owners' pages (API keys, members): an owner of the current environment sees, adds, changes and deletes
    its objects; editors and viewers have no such page."""

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.environment_lookup}__in": owned_environment_ids(request)})

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(owned_environment_ids(request))

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        owned = owned_environment_ids(request)
        return bool(owned) if obj is None else self.object_environment_id(obj) in owned

    def has_add_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "environment" and not request.user.is_superuser:
            owned = owned_environment_ids(request)
            kwargs["queryset"] = db_field.related_model.objects.filter(pk__in=owned)
            if len(owned) == 1:
                kwargs["initial"] = owned[0]
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
