"""Read queries of the delivery app."""

from delivery.models import Delivery


def deliveries_of(*, subscription, status: str | None = None):
    deliveries = Delivery.objects.filter(subscription=subscription).select_related("event").order_by("-created_at")
    return deliveries.filter(status=status) if status else deliveries
