"""Admin of export settings, the event catalog and subscriptions (changes go through services).

The catalog is the operators'; export settings and subscriptions are the Workbench's, scoped to the member's
environments (tenancy/workbench.py).
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.admin_history import AuditHistoryAdmin
from credentials.models import Credential
from subscriptions import selectors, services
from subscriptions.forms import ExportSettingsForm, SubscriptionForm
from subscriptions.header_lines import headers_to_lines
from subscriptions.models import EventType, ExportSettings, Subscription
from subscriptions.secret_rotated_page import secret_rotated_page
from tenancy.workbench import EnvironmentScopedAdmin, editable_environment_ids
from tenancy.workbench_pages import confirmation_page


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "origin", "description"]


@admin.register(ExportSettings)
class ExportSettingsAdmin(AuditHistoryAdmin, EnvironmentScopedAdmin):
    """One page per environment: what of each event is delivered."""

    audit_object_type = "export_settings"

    form = ExportSettingsForm
    list_display = ["__str__", "include_test_events", "include_request_payload", "include_card_response_data"]
    list_select_related = ["environment"]
    actions = None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.export_settings_update(environment=obj.environment, **form.cleaned_data)


@admin.register(Subscription)
class SubscriptionAdmin(AuditHistoryAdmin, EnvironmentScopedAdmin):
    """A subscription's own page: its fields, pause, resume and the secret's rotation.

    delivery/admin.py registers its subclass in this one's place (Django's way to extend another app's admin, as for
    the User admin), adding Send test, Recover, the mapping editor, health and the request log: subscriptions may not
    import delivery or requestlog, which import subscriptions.
    """

    audit_object_type = "subscription"
    form = SubscriptionForm
    list_display = ["name", "environment", "status_shown", "url"]
    list_filter = ["status", "event_types", ("environment", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["environment"]
    search_fields = ["name", "url", "card"]
    actions = ["pause", "resume"]
    editable_fields = [
        "name",
        "card",
        "event_types",
        "method",
        "url",
        "header_lines",
        "filter",
        "credential",
        "tls_credential",
        "max_retries",
        "auto_disable",
        "rate_limit",
        "ordered",
        "send_traceparent",
    ]
    shown_fields = ["status_shown", "created_at", "updated_at"]

    class Media:
        css = {"all": ["subscriptions/subscription_form.css"]}

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["environment", *self.editable_fields]
        return [*self.editable_fields, "environment_name", *self.shown_fields]

    def get_readonly_fields(self, request, obj=None):
        return ["environment_name", *self.shown_fields] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("credential", "tls_credential"):
            # A TLS credential authenticates nothing by itself: it is offered only as the TLS credential.
            tls = Credential.objects.filter(type=Credential.Type.TLS)
            queryset = tls if db_field.name == "tls_credential" else Credential.objects.exclude(pk__in=tls)
            if not request.user.is_superuser:
                queryset = queryset.filter(environment_id__in=editable_environment_ids(request))
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Saved already: the form's last check is the service that saves (subscriptions/forms.py). What the filter
        cannot see under the export settings is said."""
        for warning in selectors.subscription_filter_warnings(subscription=obj):
            messages.warning(request, warning)

    def save_related(self, request, form, formsets, change):
        """The service set the event types along with the rest."""

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            services.subscription_delete(subscription=subscription)

    def get_deleted_objects(self, objs, request):
        """What goes with a subscription (its deliveries, request log, recoveries) goes with it: an editor who may
        delete the subscription needs no permission on those rows, which members cannot delete one by one."""
        _, counts, _, protected = super().get_deleted_objects(objs, request)
        # The page names the subscriptions and counts what goes with them, rather than listing each delivery and
        # each event type link by its ORM name.
        through = str(Subscription.event_types.through._meta.verbose_name_plural)
        counts = {name: count for name, count in counts.items() if str(name) != through}
        return [str(subscription) for subscription in objs], counts, set(), protected

    def get_urls(self):
        own = [
            path(
                f"<path:object_id>/{route}", self.admin_site.admin_view(view), name=f"subscriptions_subscription_{name}"
            )
            for route, view, name in self.tool_views()
        ]
        return [*own, *super().get_urls()]

    def tool_views(self) -> list[tuple]:
        """(route, view, name) of the change page's buttons; delivery's admin adds its own."""
        return [
            ("pause/", self.pause_view, "pause"),
            ("resume/", self.resume_view, "resume"),
            ("secret/", self.secret_view, "secret"),
            ("rotate-secret/", self.rotate_secret_view, "rotate_secret"),
        ]

    def changeable(self, request, object_id) -> Subscription:
        """The subscription of a tool view: 404 outside the member's environments, 403 for a viewer."""
        subscription = self.get_object(request, object_id)
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        return subscription

    def change_page(self, subscription: Subscription) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:subscriptions_subscription_change", args=[subscription.pk]))

    def pause_view(self, request, object_id):
        subscription = self.changeable(request, object_id)
        if request.method != "POST":
            return self.confirmation(
                request,
                subscription,
                title=f"Pause {subscription.name}?",
                explanation="While paused it receives nothing: the deliveries of new events are skipped. Once "
                "resumed, Recover sends the skipped ones again.",
                confirm_label="Pause",
            )
        services.subscription_pause(subscription=subscription, reason=f"paused in the Workbench by {request.user}")
        self.log_change(request, subscription, "Paused.")
        messages.success(request, f"{subscription.name} is paused: it receives nothing until resumed.")
        return self.change_page(subscription)

    def resume_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        subscription = self.changeable(request, object_id)
        services.subscription_resume(subscription=subscription)
        self.log_change(request, subscription, "Resumed.")
        messages.success(request, f"{subscription.name} is active again.")
        return self.change_page(subscription)

    def confirmation(self, request, subscription: Subscription, *, title: str, explanation: str, confirm_label: str):
        change_url = reverse("admin:subscriptions_subscription_change", args=[subscription.pk])
        return confirmation_page(
            request,
            admin_site=self.admin_site,
            title=title,
            explanation=explanation,
            confirm_label=confirm_label,
            breadcrumbs=[
                ("Subscriptions", reverse("admin:subscriptions_subscription_changelist")),
                (subscription.name, change_url),
            ],
            cancel_url=change_url,
        )

    def secret_view(self, request, object_id):
        """Show secret: editors only (the secret signs as Outflow does), after a confirmation."""
        subscription = self.changeable(request, object_id)
        if request.method != "POST":
            return self.confirmation(
                request,
                subscription,
                title=f"Show the signing secret of {subscription.name}?",
                explanation="Anyone who sees the secret can sign requests your receiver will trust. "
                "Show it only where nobody else is looking.",
                confirm_label="Show secret",
            )
        self.log_change(request, subscription, "Showed the signing secret.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Signing secret of {subscription.name}",
            "owner": subscription.name,
            "secret": subscription.secret,
            "change_url": reverse("admin:subscriptions_subscription_change", args=[subscription.pk]),
        }
        return TemplateResponse(request, "admin/signing_secret_shown.html", context)

    def rotate_secret_view(self, request, object_id):
        subscription = self.changeable(request, object_id)
        if request.method != "POST":
            return self.confirmation(
                request,
                subscription,
                title=f"Rotate the signing secret of {subscription.name}?",
                explanation=f"A new secret signs every request from now on. The current one keeps signing alongside "
                f"it for {settings.OUTFLOW_SECRET_ROTATION_HOURS} hours: give your receiver the new one before then.",
                confirm_label="Rotate secret",
            )
        subscription = services.subscription_secret_rotate(subscription=subscription)
        # The history says that it happened, never the secret.
        self.log_change(request, subscription, "Rotated the signing secret.")
        return secret_rotated_page(
            request,
            admin_site=self.admin_site,
            owner=subscription.name,
            secret=subscription.secret,
            changelist=("Subscriptions", reverse("admin:subscriptions_subscription_changelist")),
            change_url=reverse("admin:subscriptions_subscription_change", args=[subscription.pk]),
            back_label="the subscription",
            shown_once=False,
        )

    @admin.display(description="Status", ordering="status")
    def status_shown(self, subscription: Subscription) -> str:
        if subscription.status == Subscription.Status.PAUSED:
            return format_html("<strong>paused</strong>: {}", subscription.paused_reason or "no reason recorded")
        return "active"

    @admin.display(description="Headers")
    def header_lines(self, subscription: Subscription) -> str:
        """The headers as a viewer reads them (editors get the text area)."""
        return format_html("<pre>{}</pre>", headers_to_lines(subscription.headers))

    @admin.action(description="Pause the selected subscriptions", permissions=["change"])
    def pause(self, request, queryset):
        for subscription in self.changeable_selection(request, queryset).filter(status=Subscription.Status.ACTIVE):
            services.subscription_pause(subscription=subscription, reason=f"paused in the Workbench by {request.user}")
        messages.success(request, "Paused.")

    @admin.action(description="Resume the selected subscriptions", permissions=["change"])
    def resume(self, request, queryset):
        for subscription in self.changeable_selection(request, queryset).filter(status=Subscription.Status.PAUSED):
            services.subscription_resume(subscription=subscription)
        messages.success(request, "Resumed.")
