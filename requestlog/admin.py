"""Read-only admin of the request log, scoped to the member's environments: each attempt's target, request and
response, as stored (redacted as the API shows them), newest first."""

import json

from django.contrib import admin
from django.utils.html import format_html

from requestlog.models import RequestLog
from requestlog.selectors import FAILURE, SUCCESS
from subscriptions.admin_filters import SubscriptionFilter
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
class RequestLogAdmin(ReadOnlyScopedAdmin):
    environment_lookup = "subscription__environment"
    ordering = ["-created_at", "-id"]
    list_display = [
        "created_at",
        "subscription",
        "attempt",
        "test",
        "method",
        "response_status",
        "duration_ms",
        "error",
    ]
    list_filter = [OutcomeFilter, TestFilter, SubscriptionFilter]
    list_select_related = ["subscription"]
    fields = [
        "created_at",
        "subscription",
        "delivery_id",
        "attempt",
        "test",
        "duration_ms",
        "error",
        "target",
        "request_headers_shown",
        "request_body_shown",
        "response_status",
        "response_headers_shown",
        "response_body_shown",
    ]
    readonly_fields = fields

    def object_environment_id(self, obj):
        return obj.subscription.environment_id

    @admin.display(description="Test", boolean=True, ordering="is_test")
    def test(self, entry: RequestLog) -> bool:
        return entry.is_test

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
