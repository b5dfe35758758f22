"""Read-only admin of the request log: each attempt's target, request and response, shown readably."""

import json

from django.contrib import admin
from django.utils.html import format_html

from requestlog.models import RequestLog


def _pre(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "subscription",
        "attempt",
        "is_test",
        "method",
        "response_status",
        "duration_ms",
        "error",
    ]
    list_filter = ["subscription", "is_test", "response_status"]
    list_select_related = ["subscription"]
    fields = [
        "created_at",
        "subscription",
        "delivery_id",
        "attempt",
        "is_test",
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

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
