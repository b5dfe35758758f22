"""Read queries of the notifications app."""

from django.db import IntegrityError, transaction

from notifications.models import NotificationSettings
from outbound.signing_secrets import signing_secret_new
from tenancy.models import Environment


def notification_settings_of(*, environment: Environment) -> NotificationSettings:
    """The environment's settings, made (with a new signing secret) the first time they are asked for."""
    found = NotificationSettings.objects.filter(environment=environment).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return NotificationSettings.objects.create(environment=environment, secret=signing_secret_new())
    except IntegrityError:
        # Another request made them first: theirs (and their secret) stand.
        return NotificationSettings.objects.get(environment=environment)
