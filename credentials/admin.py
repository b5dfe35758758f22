"""Admin of credentials, the Workbench's: a form per type through the services; secret values never shown."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from audit.admin_history import AuditHistoryAdmin
from config.errors import ApiError
from credentials import services
from credentials.check import check_verdict, credential_check
from credentials.forms import TYPE_LABELS, CredentialForm
from credentials.models import Credential
from credentials.tls import certificate_words
from credentials.types import CREDENTIAL_FIELDS
from tenancy.workbench import EnvironmentScopedAdmin


@admin.register(Credential)
class CredentialAdmin(AuditHistoryAdmin, EnvironmentScopedAdmin):
    audit_object_type = "credential"
    form = CredentialForm
    list_display = ["name", "type_shown", "environment", "created_at"]
    list_filter = ["type", ("environment", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["environment"]
    search_fields = ["name"]
    # Deleting goes through the service's in-use check, one credential at a time.
    actions = None
    shown_fields = [
        "environment_name",
        "type_shown",
        "settings_shown",
        "secrets_shown",
        "certificate_shown",
        "used_by",
        "created_at",
    ]

    class Media:
        css = {"all": ["credentials/credential_tools.css"]}
        js = ["credentials/credential_form.js"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["environment", "name", "type"]}), *self._type_fieldsets(list(TYPE_LABELS))]
        if not self.has_change_permission(request, obj):
            return [(None, {"fields": ["name", *self.shown_fields]})]
        return [
            (None, {"fields": ["name", "type", "environment_name"]}),
            *([("Certificate", {"fields": ["certificate_shown"]})] if obj.type == Credential.Type.TLS else []),
            *self._type_fieldsets([obj.type]),
            ("Used by", {"fields": ["used_by"]}),
        ]

    def _type_fieldsets(self, types: list[str]) -> list[tuple]:
        return [
            (
                TYPE_LABELS[credential_type],
                {
                    "fields": list(CREDENTIAL_FIELDS[credential_type]),
                    "classes": ["credential-fields", f"credential-{credential_type}"],
                },
            )
            for credential_type in types
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.shown_fields if obj is not None else []

    def get_urls(self):
        check = path(
            "<path:object_id>/check/",
            self.admin_site.admin_view(self.check_view),
            name="credentials_credential_check",
        )
        return [check, *super().get_urls()]

    def check_view(self, request, object_id):
        """Check credential: the API's check (an OAuth token fetch, a TLS key against its certificate), its result
        shown on the credential's page. Editors only: a fetch uses the secret."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        credential = self.get_object(request, object_id)
        if not self.has_change_permission(request, credential):
            raise PermissionDenied
        try:
            verdict = check_verdict(credential_check(credential=credential))
        except ApiError as refusal:
            messages.error(request, f"Not checked: {refusal.message}.")
        else:
            level = {"passed": messages.SUCCESS, "failed": messages.ERROR}.get(verdict.outcome, messages.INFO)
            messages.add_message(request, level, verdict.sentence)
        return HttpResponseRedirect(reverse("admin:credentials_credential_change", args=[credential.pk]))

    def save_model(self, request, obj, form, change):
        """Saved already: the form's last check is the service that saves (credentials/forms.py)."""

    def delete_model(self, request, obj):
        services.credential_delete(credential=obj)

    @admin.display(description="Type", ordering="type")
    def type_shown(self, credential: Credential) -> str:
        return TYPE_LABELS[credential.type]

    @admin.display(description="Settings")
    def settings_shown(self, credential: Credential) -> str:
        labels = CredentialForm.base_fields
        return format_html_join(
            "\n",
            "<div>{}: {}</div>",
            ((labels[name].label, value) for name, value in credential.settings.items() if name in labels),
        )

    @admin.display(description="Secret values")
    def secrets_shown(self, credential: Credential) -> str:
        labels = CredentialForm.base_fields
        names = [name for name, spec in CREDENTIAL_FIELDS[credential.type].items() if spec.secret]
        return ", ".join(
            f"{labels[name].label}: {'set' if credential.secrets.get(name) else 'not set'}" for name in names
        )

    @admin.display(description="Client certificate")
    def certificate_shown(self, credential: Credential) -> str:
        return certificate_words(credential.settings, now=timezone.now())

    @admin.display(description="Subscriptions using it")
    def used_by(self, credential: Credential) -> str:
        subscriptions = sorted({*credential.subscriptions.all(), *credential.tls_subscriptions.all()}, key=str)
        if not subscriptions:
            return "None: the credential can be deleted."
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:subscriptions_subscription_change", args=[s.pk]), s.name) for s in subscriptions),
        )
