"""Read-only admin of events and deliveries."""

from django.contrib import admin

from delivery.models import Delivery, Event


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
