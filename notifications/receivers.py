"""What the notifications app does on the subscriptions app's signals (which it may not call directly)."""

from django.dispatch import receiver

from notifications.services import subscription_resumed_notify
from subscriptions.models import Subscription
from subscriptions.signals import subscription_resumed


@receiver(subscription_resumed, dispatch_uid="notifications.subscription_resumed")
def _subscription_resumed(sender, *, subscription: Subscription, **kwargs) -> None:
    subscription_resumed_notify(subscription=subscription)
