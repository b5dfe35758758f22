"""Admin of environments, export settings, the event catalog and subscriptions (changes go through services)."""

from django.contrib import admin, messages

from subscriptions import services
from subscriptions.models import ApiKey, Environment, EventType, ExportSettings, Subscription


class ExportSettingsInline(admin.StackedInline):
    model = ExportSettings
    can_delete = False


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["prefix", "created_at"]
    readonly_fields = ["prefix", "created_at"]
    extra = 0
    can_delete = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at"]
    inlines = [ExportSettingsInline, ApiKeyInline]


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "origin", "description"]


class SubscriptionAdmin(admin.ModelAdmin):
    """Registered by delivery's admin, which adds Send test, the mapping editor and the request log."""

    list_display = [
        "name",
        "environment",
        "status",
        "method",
        "url",
        "card",
        "max_retries",
        "auto_disable",
        "paused_at",
    ]
    list_filter = ["status", "event_types", "environment"]
    search_fields = ["name", "url", "card"]
    actions = ["pause", "resume"]
    readonly_fields = [
        "id",
        "environment",
        "name",
        "card",
        "event_types",
        "method",
        "url",
        "headers",
        "max_retries",
        "auto_disable",
        "status",
        "paused_reason",
        "paused_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["secret", "previous_secret", "previous_secret_expires_at"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Pause the selected subscriptions")
    def pause(self, request, queryset):
        for subscription in queryset.filter(status=Subscription.Status.ACTIVE):
            services.subscription_pause(subscription=subscription, reason=f"paused in the admin by {request.user}")
        messages.success(request, "Paused.")

    @admin.action(description="Resume the selected subscriptions")
    def resume(self, request, queryset):
        for subscription in queryset.filter(status=Subscription.Status.PAUSED):
            services.subscription_resume(subscription=subscription)
        messages.success(request, "Resumed.")
