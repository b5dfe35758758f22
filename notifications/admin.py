"""Admin of notification settings (the Workbench's, one page per environment) and of notifications (read-only)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from audit.admin_history import AuditHistoryAdmin
from config.errors import ApiError
from notifications.addresses import email_states
from notifications.forms import NotificationSettingsForm
from notifications.models import Notification, NotificationSettings
from notifications.selectors import notification_settings_of
from notifications.services import notification_secret_rotate, notification_test_send
from subscriptions.secret_rotated_page import secret_rotated_page
from tenancy.models import Environment
from tenancy.workbench import EnvironmentScopedAdmin, ReadOnlyScopedAdmin, editable_environment_ids, roles_of


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(AuditHistoryAdmin, EnvironmentScopedAdmin):
    """One page per environment: where operational notifications go. Editors see the secret, as the API shows it,
    and rotate it as a subscription's (Rotate secret, notificationsettings/change_form.html)."""

    audit_object_type = "notifications"
    form = NotificationSettingsForm
    list_display = ["__str__", "webhook_url", "email_count"]
    list_select_related = ["environment"]
    actions = None

    class Media:
        css = {"all": ["notifications/notification_tools.css"]}

    def changelist_view(self, request, extra_context=None):
        # Made on first use: every environment of the member has its page (and its secret) once it is listed.
        if not request.user.is_superuser:
            for environment in Environment.objects.filter(pk__in=list(roles_of(request))):
                notification_settings_of(environment=environment)
        return super().changelist_view(request, extra_context)

    def get_fields(self, request, obj=None):
        fields = ["environment_name", "webhook_url", "email_lines", "email_confirmations"]
        if obj is not None and self._reads_secret(request, obj):
            fields.append("secret")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ["environment_name", "secret", "email_confirmations"]

    def _reads_secret(self, request, obj) -> bool:
        return request.user.is_superuser or obj.environment_id in editable_environment_ids(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        rotate = path(
            "<path:object_id>/rotate-secret/",
            self.admin_site.admin_view(self.rotate_secret_view),
            name="notifications_notificationsettings_rotate_secret",
        )
        send_test = path(
            "<path:object_id>/send-test/",
            self.admin_site.admin_view(self.send_test_view),
            name="notifications_notificationsettings_send_test",
        )
        return [rotate, send_test, *super().get_urls()]

    def send_test_view(self, request, object_id):
        """Send test notification: a notification.test to every channel set; the list of notifications shows it go."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        notification_settings = self.get_object(request, object_id)
        if not self.has_change_permission(request, notification_settings):
            raise PermissionDenied
        change_url = reverse("admin:notifications_notificationsettings_change", args=[notification_settings.pk])
        try:
            sent = notification_test_send(environment=notification_settings.environment)
        except ApiError as refusal:
            messages.error(request, f"No test notification sent: {refusal.message}.")
            return HttpResponseRedirect(change_url)
        channels = " and ".join(sorted({"the webhook" if item.channel == "webhook" else "email" for item in sent}))
        messages.success(request, f"A test notification is on its way by {channels}; Notifications shows how it went.")
        return HttpResponseRedirect(change_url)

    def rotate_secret_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        notification_settings = self.get_object(request, object_id)
        if not self.has_change_permission(request, notification_settings):
            raise PermissionDenied
        notification_settings = notification_secret_rotate(environment=notification_settings.environment)
        # The history says that it happened, never the secret.
        self.log_change(request, notification_settings, "Rotated the signing secret.")
        return secret_rotated_page(
            request,
            admin_site=self.admin_site,
            owner=str(notification_settings),
            secret=notification_settings.secret,
            changelist=("Notification settings", reverse("admin:notifications_notificationsettings_changelist")),
            change_url=reverse("admin:notifications_notificationsettings_change", args=[notification_settings.pk]),
            back_label="the notification settings",
            shown_once=False,
        )

    @admin.display(description="Emails")
    def email_lines(self, obj: NotificationSettings) -> str:
        """The addresses as a viewer reads them (editors get the text area)."""
        return ", ".join(obj.emails) or "none"

    @admin.display(description="Confirmed")
    def email_confirmations(self, obj: NotificationSettings) -> str:
        """Only confirmed addresses are mailed: the others were sent a link to confirm with."""
        states = email_states(obj)
        return (
            ", ".join(
                f"{state['email']} ({'confirmed' if state['confirmed'] else 'awaiting confirmation'})"
                for state in states
            )
            or "none"
        )

    @admin.display(description="Emails")
    def email_count(self, obj: NotificationSettings) -> int:
        return len(obj.emails)

    def save_model(self, request, obj, form, change):
        """Saved already: the form's last check is the service that saves (notifications/forms.py)."""


@admin.register(Notification)
class NotificationAdmin(ReadOnlyScopedAdmin):
    """What was sent, or is waiting for its next try, and why a try failed."""

    list_display = ["type", "channel", "status", "attempts", "created_at", "sent_at", "last_error"]
    list_filter = ["status", "channel", "type"]
    fields = [
        "type",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "last_error",
        "payload",
    ]
    readonly_fields = fields
