"""A delivery's Workbench page: why it has not gone, in words, and Resend for those who may change the environment."""

import pytest

from delivery.drain import subscription_drain
from delivery.ingest import events_ingest
from delivery.models import Delivery
from subscriptions.services import subscription_create
from tenancy.services import environment_create
from tests.factories import event, member_client

pytestmark = pytest.mark.usefixtures("published")


@pytest.fixture
def delivery(environment, receiver) -> Delivery:
    subscription = subscription_create(
        environment=environment, name="Sink", event_types=["card-completed"], url=receiver.url("/hook")
    )
    events_ingest(environment=environment, raw_events=[event()])
    return Delivery.objects.get(subscription=subscription)


def _page(client, delivery) -> str:
    response = client.get(f"/admin/delivery/delivery/{delivery.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_says_why_it_has_not_gone_and_offers_no_resend_until_it_is_final(environment, delivery):
    page = _page(member_client(environment, "erin"), delivery)
    assert "Queued</strong>: due; 0 due deliveries of the subscription are ahead of it" in page
    assert 'id="delivery-resend"' not in page


def test_an_editor_resends_a_final_delivery_from_its_page(
    environment, delivery, receiver, published, django_capture_on_commit_callbacks
):
    subscription_drain(subscription_id=delivery.subscription_id)
    editor = member_client(environment, "erin")
    assert 'id="delivery-resend"' in _page(editor, delivery)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(f"/admin/delivery/delivery/{delivery.pk}/resend/")

    assert response.status_code == 302
    assert Delivery.objects.get().status == Delivery.Status.PENDING and published.subscription_ids() == [
        delivery.subscription_id
    ]


def test_a_viewer_is_offered_no_resend_and_is_refused_one(environment, delivery, receiver):
    subscription_drain(subscription_id=delivery.subscription_id)
    viewer = member_client(environment, "vera", role="viewer")
    assert "Done</strong>" in _page(viewer, delivery) and 'id="delivery-resend"' not in _page(viewer, delivery)
    assert viewer.post(f"/admin/delivery/delivery/{delivery.pk}/resend/").status_code == 403
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


def test_a_member_of_another_environment_finds_neither_the_page_nor_resend(environment, delivery, receiver, catalog):
    subscription_drain(subscription_id=delivery.subscription_id)
    other, _ = environment_create(name="other")
    stranger = member_client(other, "mallory")
    assert stranger.get(f"/admin/delivery/delivery/{delivery.pk}/change/").status_code == 404
    assert stranger.post(f"/admin/delivery/delivery/{delivery.pk}/resend/").status_code == 404
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED
