"""End to end: payload filters decide at ingest; the real worker sends the receiver only the matching events."""

import json
import time

import pytest

from tests.e2e.steps import ingest, subscribe
from tests.factories import event

pytestmark = pytest.mark.e2e


def test_the_receiver_gets_only_the_events_each_filter_passes(worker, api, receiver):
    subscribe(api, receiver, "/promo", filter={"cardContext.cardTemplateId": {"$in": ["card-7", "card-8"]}})
    subscribe(
        api,
        receiver,
        "/rated",
        filter={"$or": [{"properties.values.rating": {"$gte": 4}}, {"endUserId": {"$startsWith": "vip-"}}]},
    )
    subscribe(api, receiver, "/all")
    card_7 = event(cardContext={"cardTemplateId": "card-7"})
    card_9 = event(cardContext={"cardTemplateId": "card-9"}, endUserId="vip-1")
    card_8_rated = event(cardContext={"cardTemplateId": "card-8"}, properties={"values": {"rating": 5}})

    result = ingest(api, card_7, card_9, card_8_rated)

    # card_8_rated's rating is card response data, removed by the default export settings: /rated never sees it.
    assert result == {"accepted": 3, "duplicates": 0, "deliveries": 6}
    promo = receiver.wait_for(2, "/promo")
    rated = receiver.wait_for(1, "/rated")
    everything = receiver.wait_for(3, "/all")
    time.sleep(0.5)
    assert sorted(json.loads(request.body)["id"] for request in promo) == sorted([card_7["id"], card_8_rated["id"]])
    assert [json.loads(request.body)["id"] for request in rated] == [card_9["id"]]
    assert len(everything) == 3 and len(receiver.received()) == 6

    api.patch("/api/v1/export-settings", {"include_card_response_data": True}, format="json")
    again = event(cardContext={"cardTemplateId": "card-1"}, properties={"values": {"rating": 4}})
    low = event(cardContext={"cardTemplateId": "card-1"}, properties={"values": {"rating": 2}})
    assert ingest(api, again, low) == {
        "accepted": 2,
        "duplicates": 0,
        "deliveries": 3,
    }
    rated = receiver.wait_for(2, "/rated")
    assert {json.loads(request.body)["id"] for request in rated} == {card_9["id"], again["id"]}
    receiver.wait_for(5, "/all")
    time.sleep(0.5)
    assert len(receiver.received()) == 9
