"""Read-only admin of the request log, scoped to the member's environments: each attempt's target, request and
response, as stored (redacted as the API shows them), newest first."""

import json
import uuid

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from requestlog.admin_filters import CreatedBetweenFilter
from requestlog.models import RequestLog
from requestlog.selectors import FAILURE, SUCCESS
from subscriptions.admin_filters import ScopedBySubscriptions, SubscriptionFilter
from tenancy.workbench import ReadOnlyScopedAdmin


def _pre(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("success", "Success (2xx)"), ("failure", "Failure")]

    def queryset(self, request, queryset):
        outcome = {"success": SUCCESS, "failure": FAILURE}.get(self.value())
        return queryset if outcome is None else queryset.filter(outcome)


class TestFilter(admin.SimpleListFilter):
    title = "test"
    parameter_name = "test"

    def lookups(self, request, model_admin):
        return [("true", "Send test"), ("false", "Deliveries")]

    def queryset(self, request, queryset):
        is_test = {"true": True, "false": False}.get(self.value())
        return queryset if is_test is None else queryset.filter(is_test=is_test)


@admin.register(RequestLog)
class RequestLogAdmin(ScopedBySubscriptions, ReadOnlyScopedAdmin):
    """delivery/admin.py registers its subclass in this one's place, adding each entry's event id (the request log
    does not import delivery, which imports it)."""

    environment_lookup = "subscription__environment"
    ordering = ["-created_at", "-id"]
    list_display = ["created_at", "subscription", "outcome", "url", "kind", "delivery_link"]
    list_filter = [OutcomeFilter, TestFilter, CreatedBetweenFilter, SubscriptionFilter]
    list_select_related = ["subscription"]
    search_fields = ["delivery_id"]
    search_help_text = "Search by delivery id."
    fields = [
        "created_at",
        "subscription",
        "outcome",
        "delivery_link",
        "attempt",
        "kind",
        "duration_ms",
        "target",
        "request_headers_shown",
        "request_body_shown",
        "response_status",
        "response_headers_shown",
        "response_body_shown",
    ]
    readonly_fields = fields

    class Media:
        css = {"all": ["requestlog/request_log.css"]}

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(self.search_condition(term)), False

    def search_condition(self, term: str) -> Q:
        """The entries a search term finds: those of the delivery with that id."""
        try:
            return Q(delivery_id=uuid.UUID(term))
        except ValueError:
            return Q(pk__in=[])

    def object_environment_id(self, obj):
        return obj.subscription.environment_id

    @admin.display(description="Outcome")
    def outcome(self, entry: RequestLog) -> str:
        if entry.succeeded:
            return format_html('<span class="outcome outcome-success">succeeded</span> {}', entry.response_status)
        reason = entry.error or f"answered {entry.response_status}"
        return format_html('<span class="outcome outcome-failure">failed</span> {}', reason)

    @admin.display(description="Kind", ordering="is_test")
    def kind(self, entry: RequestLog) -> str:
        return "Send test" if entry.is_test else "Delivery"

    @admin.display(description="Delivery")
    def delivery_link(self, entry: RequestLog) -> str:
        if entry.delivery_id is None:
            return "—"
        url = reverse("admin:delivery_delivery_change", args=[entry.delivery_id])
        return format_html(
            '<a href="{}" class="delivery-link" title="{}">{}…</a>', url, entry.delivery_id, str(entry.delivery_id)[:8]
        )

    @admin.display(description="Target")
    def target(self, entry: RequestLog) -> str:
        return f"{entry.method} {entry.url}"

    @admin.display(description="Request headers")
    def request_headers_shown(self, entry: RequestLog) -> str:
        return _pre(entry.request_headers)

    @admin.display(description="Request body")
    def request_body_shown(self, entry: RequestLog) -> str:
        return _pre(f"{entry.request_body}\n({entry.request_body_size} bytes)")

    @admin.display(description="Response headers")
    def response_headers_shown(self, entry: RequestLog) -> str:
        return _pre(entry.response_headers)

    @admin.display(description="Response body")
    def response_body_shown(self, entry: RequestLog) -> str:
        return _pre(f"{entry.response_body}\n({entry.response_body_size} bytes)")
