"""Steps of the notification tests: settings whose addresses their owners confirmed, as the confirmation link does."""

from notifications.addresses import EMAIL_CONFIRMATION, confirmation_token
from notifications.confirmation import email_confirm
from notifications.models import Notification
from notifications.services import notification_settings_update


def settings_confirmed(environment, **changes):
    """Update the settings, then confirm each listed address through its link's token; the confirmation rows are
    removed, so a test counts only the notifications it is about."""
    notification_settings = notification_settings_update(environment=environment, **changes)
    for email in changes.get("emails", []):
        assert email_confirm(token=confirmation_token(environment_id=environment.pk, email=email)) == email.lower()
    Notification.objects.filter(environment=environment, type=EMAIL_CONFIRMATION).delete()
    notification_settings.refresh_from_db()
    return notification_settings
