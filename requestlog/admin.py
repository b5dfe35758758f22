"""Read-only admin of the request log."""

from django.contrib import admin

from requestlog.models import RequestLog


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
    list_filter = ["is_test", "response_status"]
    list_select_related = ["subscription"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
