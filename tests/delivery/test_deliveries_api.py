"""The deliveries API: one delivery with its `waiting_on`, resend, the list's `waiting_on`, and tenancy."""

import pytest

from delivery.drain import subscription_drain
from delivery.models import Delivery
from subscriptions.services import subscription_pause
from tests.factories import event, subscription_payload


@pytest.fixture
def subscription_id(api, receiver) -> str:
    response = api.post("/api/v1/subscriptions", subscription_payload(receiver.url("/hook")), format="json")
    assert response.status_code == 201
    return response.json()["id"]


def _one_delivery(api) -> Delivery:
    assert api.post("/api/v1/events", event(), format="json").status_code == 202
    return Delivery.objects.latest("created_at")


def test_a_delivery_answers_its_fields_and_why_it_has_not_gone(api, subscription_id, published):
    delivery = _one_delivery(api)
    body = api.get(f"/api/v1/deliveries/{delivery.pk}").json()
    assert body["id"] == str(delivery.pk) and body["subscription"] == subscription_id
    assert body["event"] == delivery.event.event_id and body["status"] == "pending" and body["attempts"] == 0
    assert body["waiting_on"] == {
        "reason": "queued",
        "until": None,
        "detail": "due; 0 due deliveries of the subscription are ahead of it",
    }


def test_another_environments_delivery_is_not_found(api, other_api, subscription_id, published):
    delivery = _one_delivery(api)
    for response in (
        other_api.get(f"/api/v1/deliveries/{delivery.pk}"),
        other_api.post(f"/api/v1/deliveries/{delivery.pk}/resend"),
    ):
        assert response.status_code == 404
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_the_list_shows_each_deliverys_waiting_on(api, subscription_id, published):
    _one_delivery(api)
    subscription_drain(subscription_id=subscription_id)
    _one_delivery(api)
    results = api.get(f"/api/v1/subscriptions/{subscription_id}/deliveries").json()["results"]
    assert [result["waiting_on"]["reason"] for result in results] == ["queued", "final"]


def test_resend_sends_a_final_delivery_again_with_its_attempts_going_on(
    api, subscription_id, receiver, published, django_capture_on_commit_callbacks
):
    delivery = _one_delivery(api)
    subscription_drain(subscription_id=subscription_id)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/deliveries/{delivery.pk}/resend")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending" and response.json()["attempts"] == 1
    assert response.json()["waiting_on"]["reason"] == "queued"
    assert published.subscription_ids() == [delivery.subscription_id]
    subscription_drain(subscription_id=subscription_id)
    resent = Delivery.objects.get()
    assert resent.status == Delivery.Status.SUCCEEDED and resent.attempts == 2
    assert [request.headers["webhook-id"] for request in receiver.received("/hook")] == [str(delivery.pk)] * 2


def test_resend_of_a_delivery_not_final_is_a_conflict(api, subscription_id, published):
    delivery = _one_delivery(api)
    response = api.post(f"/api/v1/deliveries/{delivery.pk}/resend")
    assert response.status_code == 409 and response.json()["error"]["code"] == "delivery_not_final"


def test_resend_on_a_paused_subscription_is_a_conflict(api, subscription_id, published):
    delivery = _one_delivery(api)
    subscription_drain(subscription_id=subscription_id)
    subscription_pause(subscription=delivery.subscription, reason="test")
    response = api.post(f"/api/v1/deliveries/{delivery.pk}/resend")
    assert response.status_code == 409 and response.json()["error"]["code"] == "subscription_paused"
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


def test_an_ordered_subscription_is_created_and_changed_through_the_api(api, receiver):
    created = api.post(
        "/api/v1/subscriptions", subscription_payload(receiver.url("/hook"), ordered=True), format="json"
    ).json()
    assert created["ordered"] is True
    changed = api.patch(f"/api/v1/subscriptions/{created['id']}", {"ordered": False}, format="json").json()
    assert changed["ordered"] is False
