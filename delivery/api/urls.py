from django.urls import re_path

from delivery.api.views import (
    DeliveryDetailView,
    DeliveryResendView,
    EventIngestView,
    SubscriptionDeliveriesView,
    SubscriptionMappingCheckView,
    SubscriptionMappingPreviewView,
    SubscriptionRecoverView,
    SubscriptionTestView,
)

urlpatterns = [
    re_path(
        r"^subscriptions/(?P<pk>[0-9a-f-]{36})/mapping/preview/?$",
        SubscriptionMappingPreviewView.as_view(),
        name="subscription-mapping-preview",
    ),
    re_path(
        r"^subscriptions/(?P<pk>[0-9a-f-]{36})/mapping/check/?$",
        SubscriptionMappingCheckView.as_view(),
        name="subscription-mapping-check",
    ),
    re_path(r"^subscriptions/(?P<pk>[0-9a-f-]{36})/test/?$", SubscriptionTestView.as_view(), name="subscription-test"),
    re_path(r"^events/?$", EventIngestView.as_view(), name="events"),
    re_path(r"^deliveries/(?P<pk>[0-9a-f-]{36})/?$", DeliveryDetailView.as_view(), name="delivery-detail"),
    re_path(r"^deliveries/(?P<pk>[0-9a-f-]{36})/resend/?$", DeliveryResendView.as_view(), name="delivery-resend"),
    re_path(
        r"^subscriptions/(?P<pk>[0-9a-f-]{36})/recover/?$",
        SubscriptionRecoverView.as_view(),
        name="subscription-recover",
    ),
    re_path(
        r"^subscriptions/(?P<pk>[0-9a-f-]{36})/deliveries/?$",
        SubscriptionDeliveriesView.as_view(),
        name="subscription-deliveries",
    ),
]
