"""List filters of the Workbench's pages of rows that belong to a subscription (deliveries, the request log)."""

from django.contrib import admin

from subscriptions.models import Subscription
from tenancy.workbench import roles_of


class SubscriptionFilter(admin.SimpleListFilter):
    """Rows of one of the member's subscriptions, listed from the subscriptions (not a scan of the rows' table)."""

    title = "subscription"
    parameter_name = "subscription__id__exact"

    def lookups(self, request, model_admin):
        subscriptions = Subscription.objects.order_by("name")
        if not request.user.is_superuser:
            subscriptions = subscriptions.filter(environment_id__in=list(roles_of(request)))
        return [(str(subscription.pk), subscription.name) for subscription in subscriptions.only("pk", "name")]

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(subscription_id=self.value())
