"""The admin: subscription list and page with Send test, the health chart and the request log."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from requestlog.models import RequestLog
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests import secrets


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment,
        name="Sink",
        event_types=["card-completed"],
        url=receiver.url("/hook"),
        headers={"X-Api-Key": secrets.HEADER_SECRET},
    )


def test_list_filters_by_status_and_event_type_and_links_the_request_log(admin_client, subscription):
    page = admin_client.get(
        "/admin/subscriptions/subscription/?status__exact=active&event_types__name__exact=card-completed"
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "Sink" in text and f"subscription__id__exact={subscription.pk}" in text
    paused = admin_client.get("/admin/subscriptions/subscription/?status__exact=paused").content.decode()
    assert "Sink" not in paused


def test_pause_and_resume_actions(admin_client, subscription):
    admin_client.post(
        "/admin/subscriptions/subscription/", {"action": "pause", "_selected_action": [str(subscription.pk)]}
    )
    assert Subscription.objects.get().status == Subscription.Status.PAUSED
    admin_client.post(
        "/admin/subscriptions/subscription/", {"action": "resume", "_selected_action": [str(subscription.pk)]}
    )
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_subscription_page_masks_header_secrets_and_shows_health(admin_client, subscription):
    RequestLog.objects.create(subscription=subscription, method="POST", url="u", response_status=200)
    failed = RequestLog.objects.create(subscription=subscription, method="POST", url="u", error="timeout after 15s")
    RequestLog.objects.filter(pk=failed.pk).update(created_at=timezone.now() - timedelta(hours=2))
    text = admin_client.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/").content.decode()
    assert secrets.HEADER_SECRET not in text and "whsec_" not in text
    assert "<svg" in text and "Last 24 hours: 1 succeeded, 1 failed" in text
    assert "timeout after 15s" in text and 'id="send-test"' in text


def test_send_test_sends_and_shows_the_answer_with_a_link_to_its_entry(admin_client, subscription, receiver):
    page = f"/admin/subscriptions/subscription/{subscription.pk}/send-test/"
    assert 'id="send-test-form"' in admin_client.get(page).content.decode() and receiver.received() == []
    response = admin_client.post(page, {"event_type": "card-completed"})
    assert response.status_code == 200
    assert len(receiver.received("/hook")) == 1
    entry = RequestLog.objects.get()
    assert entry.is_test and entry.response_status == 204
    text = response.content.decode()
    assert 'class="send-test-result send-test-succeeded"' in text and "answered 204" in text
    assert f"/admin/requestlog/requestlog/{entry.pk}/change/" in text
    detail = admin_client.get(f"/admin/requestlog/requestlog/{entry.pk}/change/").content.decode()
    assert f"POST {subscription.url}" in detail and "card-completed" in detail
