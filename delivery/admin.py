"""Admin of events and deliveries, and the subscription page's delivery tools: Send test, health, request log."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from config.errors import ApiError, error_body
from delivery.mapping_preview import IDENTITY, mapping_preview
from delivery.models import Delivery, Event
from delivery.send_test import subscription_test_send
from outbound.masking import masked_headers
from requestlog.health_chart import health_svg
from requestlog.selectors import request_log_hourly, request_log_latest_failure
from subscriptions.admin import SubscriptionAdmin
from subscriptions.models import Subscription
from subscriptions.services import subscription_update


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "name", "environment", "card", "is_test", "received_at"]
    list_filter = ["name", "is_test"]
    search_fields = ["event_id"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "subscription", "status", "attempts", "next_attempt_at", "last_status_code", "created_at"]
    list_filter = ["status"]
    list_select_related = ["subscription"]


def _json_script(request) -> str | None:
    """The script of a JSON POST from the editor, or None when the request is not one."""
    if request.method != "POST":
        return None
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    script = data.get("script") if isinstance(data, dict) else None
    return script if isinstance(script, str) else None


def _request_log_url(subscription: Subscription) -> str:
    return reverse("admin:requestlog_requestlog_changelist") + f"?subscription__id__exact={subscription.pk}"


@admin.register(Subscription)
class SubscriptionDeliveryAdmin(SubscriptionAdmin):
    """The subscription admin with what the delivery side adds: Send test, the request log and its health."""

    change_form_template = "admin/delivery/subscription_change_form.html"
    list_display = [*SubscriptionAdmin.list_display, "request_log"]
    exclude = [*SubscriptionAdmin.exclude, "headers"]
    readonly_fields = [
        *(name for name in SubscriptionAdmin.readonly_fields if name != "headers"),
        "headers_masked",
        "credential",
        "mapping",
        "health",
        "latest_error",
        "request_log",
    ]

    def get_urls(self):
        views = [
            ("send-test/", self.send_test_view, "send_test"),
            ("mapping/", self.mapping_editor_view, "mapping"),
            ("mapping/preview/", self.mapping_preview_view, "mapping_preview"),
            ("mapping/save/", self.mapping_save_view, "mapping_save"),
        ]
        own = [
            path(
                f"<uuid:object_id>/{route}", self.admin_site.admin_view(view), name=f"subscriptions_subscription_{name}"
            )
            for route, view, name in views
        ]
        return [*own, *super().get_urls()]

    def mapping_editor_view(self, request, object_id):
        subscription = get_object_or_404(Subscription, pk=object_id)
        config = {
            "previewUrl": reverse("admin:subscriptions_subscription_mapping_preview", args=[subscription.pk]),
            "saveUrl": reverse("admin:subscriptions_subscription_mapping_save", args=[subscription.pk]),
            "csrfToken": get_token(request),
        }
        context = {
            **self.admin_site.each_context(request),
            "title": f"Mapping of {subscription.name}",
            "subscription": subscription,
            "script": subscription.mapping or IDENTITY,
            "editor_config": config,
        }
        return TemplateResponse(request, "mapping/editor.html", context)

    def mapping_preview_view(self, request, object_id):
        subscription = get_object_or_404(Subscription, pk=object_id)
        script = _json_script(request)
        if script is None:
            return JsonResponse(error_body("invalid", "expected a JSON object with a script"), status=400)
        try:
            return JsonResponse(mapping_preview(subscription=subscription, script=script))
        except ApiError as refusal:
            return JsonResponse(
                error_body(refusal.error_code, refusal.message), status=refusal.status_code, headers=refusal.headers
            )

    def mapping_save_view(self, request, object_id):
        subscription = self._changeable(request, object_id)
        script = _json_script(request)
        if script is None:
            return JsonResponse(error_body("invalid", "expected a JSON object with a script"), status=400)
        try:
            subscription_update(subscription=subscription, mapping=script)
        except ValidationError as error:
            return JsonResponse(error_body("invalid", "; ".join(error.messages), error.message_dict), status=400)
        return JsonResponse({"saved": True})

    def _changeable(self, request, object_id) -> Subscription:
        subscription = get_object_or_404(Subscription, pk=object_id)
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        return subscription

    def send_test_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        subscription = self._changeable(request, object_id)
        try:
            entry = subscription_test_send(subscription=subscription)
        except ApiError as refusal:
            messages.error(request, f"Test request not sent: {refusal.message}")
            return HttpResponseRedirect(reverse("admin:subscriptions_subscription_change", args=[subscription.pk]))
        outcome = entry.response_status or entry.error
        messages.info(request, f"Test request sent to {subscription.url}: {outcome}")
        return HttpResponseRedirect(_request_log_url(subscription))

    @admin.display(description="Headers")
    def headers_masked(self, subscription: Subscription) -> dict:
        return masked_headers(subscription.headers)

    @admin.display(description="Request log")
    def request_log(self, subscription: Subscription) -> str:
        return format_html('<a href="{}">Request log</a>', _request_log_url(subscription))

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
