"""The Workbench's pages of rows that belong to a subscription (deliveries, the request log): their scope and their
subscription filter."""

from django.contrib import admin

from subscriptions.models import Subscription
from subscriptions.selectors import subscription_ids_of
from tenancy.workbench import roles_of


class ScopedBySubscriptions:
    """A mixin for an EnvironmentScopedAdmin of such rows: a member's rows are those of their environment's
    subscriptions, named by id. A join to the subscriptions' environment instead left the planner to guess the
    environment's share of tables of millions of rows, and with the newest first it walked the whole table's date
    index for one small environment's rows (bench/workbench_pages.py --bulk-rows, docs/WORKBENCH.md)."""

    def scope_queryset(self, queryset, environment_ids):
        return queryset.filter(subscription_id__in=subscription_ids_of(environment_ids=environment_ids))


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
