"""Admin of events and deliveries, and the subscription page's delivery tools: Send test, Recover, the mapping editor,
health and the request log. All of it scoped to the member's environments (tenancy/workbench.py)."""

import json
from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from config.errors import ApiError, error_body
from delivery.api.serializers import MappingCheckSerializer, MappingPreviewSerializer
from delivery.explain import delivery_explain
from delivery.forms import RecoverForm, SendTestForm
from delivery.mapping_preview import IDENTITY, mapping_check, mapping_preview
from delivery.models import Delivery, Event
from delivery.recovery import deliveries_recover, delivery_resend
from delivery.samples import sample_event
from delivery.send_test import subscription_test_send
from requestlog.admin import RequestLogAdmin
from requestlog.health_chart import health_svg
from requestlog.models import RequestLog
from requestlog.selectors import request_log_hourly, request_log_latest_failure, subscriptions_with_request_stats
from subscriptions.admin import SubscriptionAdmin
from subscriptions.admin_filters import ScopedBySubscriptions, SubscriptionFilter
from subscriptions.models import Subscription
from subscriptions.services import subscription_update
from tenancy.models import Environment
from tenancy.workbench import ReadOnlyScopedAdmin, editable_environment_ids, roles_of


@admin.register(Event)
class EventAdmin(ReadOnlyScopedAdmin):
    list_display = ["event_id", "name", "environment", "card", "is_test", "received_at"]
    list_filter = ["name", "is_test"]
    search_fields = ["event_id"]


@admin.register(Delivery)
class DeliveryAdmin(ScopedBySubscriptions, ReadOnlyScopedAdmin):
    environment_lookup = "subscription__environment"
    list_display = ["id", "subscription", "status", "attempts", "next_attempt_at", "last_status_code", "created_at"]
    list_filter = ["status", SubscriptionFilter]
    list_select_related = ["subscription"]
    change_form_template = "admin/delivery/delivery_change_form.html"

    def object_environment_id(self, obj):
        return obj.subscription.environment_id

    def change_view(self, request, object_id, form_url="", extra_context=None):
        delivery = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "request_log_url": reverse("admin:requestlog_requestlog_changelist") + "?" + urlencode({"q": object_id}),
        }
        if delivery is not None:
            extra_context.update(
                waiting_on=delivery_explain(delivery=delivery),
                may_resend=delivery.status in Delivery.FINAL and self._may_resend(request, delivery),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        resend = path(
            "<path:object_id>/resend/", self.admin_site.admin_view(self.resend_view), name="delivery_delivery_resend"
        )
        return [resend, *super().get_urls()]

    def _may_resend(self, request, delivery: Delivery) -> bool:
        return request.user.is_superuser or delivery.subscription.environment_id in editable_environment_ids(request)

    def resend_view(self, request, object_id):
        """Resend (POST): a final delivery goes again; 404 outside the member's environments, 403 for a viewer."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        delivery = self.get_object(request, object_id)
        if delivery is None:
            raise Http404
        if not self._may_resend(request, delivery):
            raise PermissionDenied
        try:
            delivery_resend(delivery=delivery)
        except ApiError as refusal:
            messages.error(request, f"Not sent again: {refusal.message}")
        else:
            messages.success(
                request, "Sent again: the delivery is pending, its attempts going on from where they were."
            )
        return HttpResponseRedirect(reverse("admin:delivery_delivery_change", args=[delivery.pk]))


# The request log's page, registered by the requestlog app; this one, which knows each entry's event, takes its place.
admin.site.unregister(RequestLog)


@admin.register(RequestLog)
class RequestLogEventAdmin(RequestLogAdmin):
    """The request log with each entry's event id, and a search by event id as well as by delivery id."""

    list_display = [*RequestLogAdmin.list_display[:3], "event_id_shown", *RequestLogAdmin.list_display[3:]]
    fields = [*RequestLogAdmin.fields[:4], "event_id_shown", *RequestLogAdmin.fields[4:]]
    readonly_fields = fields
    search_help_text = "Search by event id or delivery id."

    def get_queryset(self, request):
        event_id = Delivery.objects.filter(pk=OuterRef("delivery_id")).values("event__event_id")[:1]
        return super().get_queryset(request).annotate(event_id_shown=Subquery(event_id))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if request.user.is_superuser:
            environments = list(Environment.objects.values_list("pk", flat=True))
        else:
            environments = list(roles_of(request))
        # By (environment, event_id), the events' unique index: an event id alone is not indexed. The deliveries are
        # read first and named by id, so that the entries are found through their delivery index: as a subquery
        # ORed with the delivery id, the planner walked the whole date index instead.
        delivery_ids = list(
            Delivery.objects.filter(event__environment_id__in=environments, event__event_id=term).values_list(
                "pk", flat=True
            )
        )
        return queryset.filter(self.search_condition(term) | Q(delivery_id__in=delivery_ids)), False

    @admin.display(description="Event")
    def event_id_shown(self, entry) -> str:
        return entry.event_id_shown or "—"


def _json_body(request) -> dict | None:
    """The JSON object of a POST from the editor, or None when the request is not one."""
    if request.method != "POST":
        return None
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _invalid(message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body("invalid", message, fields), status=400)


def _request_log_url(subscription: Subscription) -> str:
    return reverse("admin:requestlog_requestlog_changelist") + f"?subscription__id__exact={subscription.pk}"


# The subscriptions app registered its own page; this one, with delivery's tools, takes its place.
admin.site.unregister(Subscription)


@admin.register(Subscription)
class SubscriptionDeliveryAdmin(SubscriptionAdmin):
    """The subscription admin with what the delivery side adds: Send test, Recover, the mapping editor, health."""

    change_form_template = "admin/delivery/subscription_change_form.html"
    list_display = [*SubscriptionAdmin.list_display, "success_rate", "last_delivery", "request_log"]
    shown_fields = [*SubscriptionAdmin.shown_fields, "health", "latest_error", "request_log"]

    def get_queryset(self, request):
        since = timezone.now() - timedelta(hours=24)
        return subscriptions_with_request_stats(subscriptions=super().get_queryset(request), since=since)

    def tool_views(self) -> list[tuple]:
        return [
            *super().tool_views(),
            ("send-test/", self.send_test_view, "send_test"),
            ("recover/", self.recover_view, "recover"),
            ("mapping/", self.mapping_editor_view, "mapping"),
            ("mapping/preview/", self.mapping_preview_view, "mapping_preview"),
            ("mapping/check/", self.mapping_check_view, "mapping_check"),
            ("mapping/save/", self.mapping_save_view, "mapping_save"),
        ]

    def mapping_editor_view(self, request, object_id):
        subscription = self.get_object(request, object_id)
        event_types = list(subscription.event_types.order_by("name").values_list("name", flat=True))
        config = {
            "previewUrl": reverse("admin:subscriptions_subscription_mapping_preview", args=[subscription.pk]),
            "checkUrl": reverse("admin:subscriptions_subscription_mapping_check", args=[subscription.pk]),
            "saveUrl": reverse("admin:subscriptions_subscription_mapping_save", args=[subscription.pk]),
            "csrfToken": get_token(request),
            "examples": {name: sample_event(event_name=name, card=subscription.card) for name in event_types},
        }
        context = {
            **self.admin_site.each_context(request),
            "title": f"Mapping of {subscription.name}",
            "subscription": subscription,
            "script": subscription.mapping or IDENTITY,
            "event_types": event_types,
            "editable": self.has_change_permission(request, subscription),
            "editor_config": config,
        }
        return TemplateResponse(request, "mapping/editor.html", context)

    def mapping_preview_view(self, request, object_id):
        """The API's preview, for the editor: {script, event?, event_type?}."""
        return self._editor_run(request, object_id, MappingPreviewSerializer, mapping_preview)

    def mapping_check_view(self, request, object_id):
        """Check all: the draft on each event type's example and latest event."""
        return self._editor_run(
            request, object_id, MappingCheckSerializer, lambda **draft: {"results": mapping_check(**draft)}
        )

    def _editor_run(self, request, object_id, serializer_class, run) -> JsonResponse:
        """A run of the editor's draft: its JSON read by the API's serializer, refusals in the API's envelope."""
        subscription = self.get_object(request, object_id)
        body = _json_body(request)
        if body is None or not isinstance(body.get("script"), str):
            return _invalid("expected a JSON object with a script")
        serializer = serializer_class(data=body)
        if not serializer.is_valid():
            return _invalid("the draft's input is not valid", serializer.errors)
        try:
            return JsonResponse(run(subscription=subscription, **serializer.validated_data))
        except ApiError as refusal:
            return JsonResponse(
                error_body(refusal.error_code, refusal.message), status=refusal.status_code, headers=refusal.headers
            )

    def mapping_save_view(self, request, object_id):
        subscription = self.changeable(request, object_id)
        body = _json_body(request)
        script = body.get("script") if body is not None else None
        if not isinstance(script, str):
            return _invalid("expected a JSON object with a script")
        try:
            subscription_update(subscription=subscription, mapping=script)
        except ValidationError as error:
            return _invalid("; ".join(error.messages), error.message_dict)
        self.log_change(request, subscription, "Changed the mapping." if script else "Removed the mapping.")
        return JsonResponse({"saved": True})

    def send_test_view(self, request, object_id):
        """Send test's page: choose an event type or paste an event; the POST sends it and shows the answer here."""
        subscription = self.changeable(request, object_id)
        event_types = list(subscription.event_types.order_by("name").values_list("name", flat=True))
        form = SendTestForm(request.POST or None, event_types=event_types)
        entry = None
        if request.method == "POST" and form.is_valid():
            try:
                entry = subscription_test_send(
                    subscription=subscription,
                    event=form.cleaned_data["event"],
                    event_type=form.cleaned_data["event_type"],
                )
            except ApiError as refusal:
                form.add_error(None, f"Test request not sent: {refusal.message}")
            else:
                self.log_change(request, subscription, "Sent a test request.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send test to {subscription.name}",
            "subscription": subscription,
            "form": form,
            "entry": entry,
            "entry_url": entry and reverse("admin:requestlog_requestlog_change", args=[entry.pk]),
            "request_log_url": _request_log_url(subscription),
        }
        return TemplateResponse(request, "admin/delivery/send_test.html", context)

    def recover_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        subscription = self.changeable(request, object_id)
        form = RecoverForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing recovered: since: {'; '.join(form.errors['since'])}")
            return self.change_page(subscription)
        try:
            recovered = deliveries_recover(subscription=subscription, since=form.cleaned_data["since"])
        except ApiError as refusal:
            messages.error(request, f"Nothing recovered: {refusal.message}")
            return self.change_page(subscription)
        self.log_change(
            request, subscription, f"Recovered {recovered} deliveries created since {form.cleaned_data['since']}."
        )
        messages.success(request, f"Recovered {recovered} failed or skipped deliveries: they are being sent again.")
        return self.change_page(subscription)

    @admin.display(description="Success (24 h)")
    def success_rate(self, subscription: Subscription) -> str:
        if not subscription.attempts_since:
            return "—"
        rate = 100 * subscription.successes_since / subscription.attempts_since
        return f"{rate:.0f}% of {subscription.attempts_since}"

    @admin.display(description="Last delivery", ordering="last_attempt_at")
    def last_delivery(self, subscription: Subscription) -> str:
        if subscription.last_attempt_at is None:
            return "—"
        status = subscription.last_attempt_status
        outcome = "succeeded" if status and 200 <= status < 300 else "failed"
        return f"{subscription.last_attempt_at:%Y-%m-%d %H:%M:%S} UTC, {outcome} ({status or 'no answer'})"

    @admin.display(description="Request log")
    def request_log(self, subscription: Subscription) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" class="request-log-link">Request log</a>',
            _request_log_url(subscription),
        )

    @admin.display(description="Last 24 hours")
    def health(self, subscription: Subscription) -> str:
        return mark_safe(health_svg(request_log_hourly(subscription=subscription)))

    @admin.display(description="Latest error")
    def latest_error(self, subscription: Subscription) -> str:
        entry = request_log_latest_failure(subscription=subscription)
        if entry is None:
            return "—"
        url = reverse("admin:requestlog_requestlog_change", args=[entry.pk])
        when = f"{entry.created_at:%Y-%m-%d %H:%M:%S} UTC"
        return format_html('<a href="{}">{}</a>: {}', url, when, entry.error or f"answered {entry.response_status}")
