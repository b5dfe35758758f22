from django.urls import re_path

from requestlog.api.views import RequestLogDetailView, SubscriptionRequestLogView

urlpatterns = [
    re_path(
        r"^subscriptions/(?P<pk>[0-9a-f-]{36})/requests/?$",
        SubscriptionRequestLogView.as_view(),
        name="subscription-requests",
    ),
    re_path(r"^requests/(?P<pk>[0-9]+)/?$", RequestLogDetailView.as_view(), name="request-log"),
]
