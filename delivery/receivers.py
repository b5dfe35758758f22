"""What the delivery app does on the subscriptions app's signals (which it may not call directly)."""

from django.db import transaction
from django.dispatch import receiver

from delivery.wakes import subscriptions_wake
from subscriptions.models import Subscription
from subscriptions.signals import subscription_resumed


@receiver(subscription_resumed, dispatch_uid="delivery.subscription_resumed")
def _subscription_resumed(sender, *, subscription: Subscription, **kwargs) -> None:
    """A resumed subscription's drain looks for what is due (retries whose back-off ended meanwhile, resends)."""
    transaction.on_commit(lambda: subscriptions_wake(subscription_ids=[subscription.pk]))
