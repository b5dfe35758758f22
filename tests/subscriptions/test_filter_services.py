"""Payload filters at the service level: checked on save, compiled once per version, matched at ingest after export
settings (an event that fails gets no delivery), and the warnings for paths the export settings remove."""

import pytest
from django.core.exceptions import ValidationError

from delivery.ingest import events_ingest
from delivery.models import Delivery
from subscriptions import compiled_filters
from subscriptions.compiled_filters import subscription_filter_matcher
from subscriptions.models import Subscription
from subscriptions.selectors import subscription_filter_warnings
from subscriptions.services import export_settings_update, subscription_create, subscription_update
from tests.factories import event

URL = "http://127.0.0.1:9/hook"


def _subscription(environment, **fields) -> Subscription:
    return subscription_create(
        environment=environment, name="Filtered", event_types=["card-completed", "card-displayed"], url=URL, **fields
    )


def _delivered_ids(subscription: Subscription) -> set[str]:
    return set(Delivery.objects.filter(subscription=subscription).values_list("event__event_id", flat=True))


def test_a_valid_filter_is_saved_as_given(environment):
    spec = {"cardContext.cardTemplateId": {"$in": ["card-7"]}, "$not": {"test": True}}
    subscription = _subscription(environment, filter=spec)
    subscription.refresh_from_db()
    assert subscription.filter == spec


def test_an_invalid_filter_is_refused_with_its_path_and_nothing_is_saved(environment):
    with pytest.raises(ValidationError) as raised:
        _subscription(environment, filter={"$or": [{"properties.values.rating": {"$regex": "^5"}}]})
    assert raised.value.message_dict == {
        "filter": [
            "$or[0] > properties.values.rating: unknown operator $regex; the operators are"
            " $eq $neq $gt $gte $lt $lte $in $nin $exist $startsWith $endsWith"
        ]
    }
    assert not Subscription.objects.exists()


def test_an_update_checks_the_filter_and_keeps_the_old_one_when_refused(environment):
    subscription = _subscription(environment, filter={"endUserId": "user-42"})
    with pytest.raises(ValidationError) as raised:
        subscription_update(subscription=subscription, filter={f"p{n}": n for n in range(10000)})
    assert "bytes as compact JSON; at most 4096" in raised.value.message_dict["filter"][0]
    subscription.refresh_from_db()
    assert subscription.filter == {"endUserId": "user-42"}
    subscription_update(subscription=subscription, filter=None)
    subscription.refresh_from_db()
    assert subscription.filter is None


def test_a_filter_is_compiled_once_per_version(environment, monkeypatch):
    subscription = _subscription(environment, filter={"endUserId": "user-42"})
    compiled = []
    original = compiled_filters.filter_compile

    def counting(spec, *, limits):
        compiled.append(spec)
        return original(spec, limits=limits)

    monkeypatch.setattr(compiled_filters, "filter_compile", counting)
    for _ in range(3):
        assert subscription_filter_matcher(Subscription.objects.get(pk=subscription.pk))({"endUserId": "user-42"})
    assert compiled == [{"endUserId": "user-42"}]
    subscription_update(subscription=subscription, filter={"endUserId": "user-43"})
    matcher = subscription_filter_matcher(Subscription.objects.get(pk=subscription.pk))
    assert matcher({"endUserId": "user-43"}) and not matcher({"endUserId": "user-42"})
    assert len(compiled) == 2


def test_no_filter_has_no_matcher(environment):
    assert subscription_filter_matcher(_subscription(environment)) is None


def test_an_event_that_fails_the_filter_gets_no_delivery(environment):
    filtered = _subscription(environment, filter={"cardContext.cardTemplateId": "card-7"})
    unfiltered = _subscription(environment)
    card_7, card_8 = event(), event(cardContext={"cardTemplateId": "card-8"})
    result = events_ingest(environment=environment, raw_events=[card_7, card_8])
    assert (result.accepted, result.deliveries) == (2, 3)
    assert _delivered_ids(filtered) == {card_7["id"]}
    assert _delivered_ids(unfiltered) == {card_7["id"], card_8["id"]}


def test_a_paused_subscription_records_skipped_only_for_matching_events(environment):
    subscription = _subscription(environment, filter={"endUserId": "user-1"})
    Subscription.objects.filter(pk=subscription.pk).update(status=Subscription.Status.PAUSED)
    result = events_ingest(environment=environment, raw_events=[event(endUserId="user-1"), event(endUserId="user-2")])
    assert result.deliveries == 0
    assert list(Delivery.objects.values_list("status", flat=True)) == [Delivery.Status.SKIPPED]


# One filter per operator and combination: the first event passes it, the second does not.
OPERATOR_CASES = [
    ({"endUserId": "u-1"}, {"endUserId": "u-1"}, {"endUserId": "u-2"}),
    ({"endUserId": {"$eq": "u-1"}}, {"endUserId": "u-1"}, {"endUserId": "u-2"}),
    ({"endUserId": {"$neq": "u-2"}}, {"endUserId": "u-1"}, {"endUserId": "u-2"}),
    ({"cardContext.rank": {"$gt": 3}}, {"cardContext": {"rank": 4}}, {"cardContext": {"rank": 3}}),
    ({"cardContext.rank": {"$gte": 3}}, {"cardContext": {"rank": 3}}, {"cardContext": {"rank": 2.5}}),
    ({"cardContext.rank": {"$lt": 3}}, {"cardContext": {"rank": 2}}, {"cardContext": {"rank": 3}}),
    ({"cardContext.rank": {"$lte": 3}}, {"cardContext": {"rank": 3}}, {"cardContext": {"rank": "1"}}),
    ({"endUserId": {"$in": ["u-1", "u-3"]}}, {"endUserId": "u-3"}, {"endUserId": "u-2"}),
    ({"endUserId": {"$nin": ["u-2"]}}, {"endUserId": "u-1"}, {"endUserId": "u-2"}),
    ({"sdkContext": {"$exist": True}}, {"sdkContext": None}, {}),
    ({"sdkContext": {"$exist": False}}, {}, {"sdkContext": {}}),
    ({"endUserId": {"$startsWith": "u-"}}, {"endUserId": "u-9"}, {"endUserId": "U-9"}),
    ({"endUserId": {"$endsWith": "-9"}}, {"endUserId": "u-9"}, {"endUserId": "u-90"}),
    ({"$and": [{"endUserId": "u-1"}, {"test": False}]}, {"endUserId": "u-1", "test": False}, {"endUserId": "u-1"}),
    ({"$or": [{"endUserId": "u-1"}, {"endUserId": "u-3"}]}, {"endUserId": "u-3"}, {"endUserId": "u-2"}),
    ({"$not": {"endUserId": "u-2"}}, {"endUserId": "u-1"}, {"endUserId": "u-2"}),
    ({"tags": "x"}, {"tags": ["w", "x"]}, {"tags": ["w"]}),
    ({"tags.0": "w"}, {"tags": ["w", "x"]}, {"tags": ["x", "w"]}),
    ({"score": None}, {"score": None}, {}),
    ({"score": 5}, {"score": 5.0}, {"score": "5"}),
    ({"flag": True}, {"flag": True}, {"flag": 1}),
]


@pytest.mark.parametrize(("spec", "passes", "fails"), OPERATOR_CASES)
def test_ingest_delivers_only_what_each_operator_passes(environment, spec, passes, fails):
    subscription = _subscription(environment, filter=spec)
    passing, failing = event(**passes), event(**fails)
    for name in passes.keys() - fails.keys():
        failing.pop(name, None)
    result = events_ingest(environment=environment, raw_events=[passing, failing])
    assert result.deliveries == 1
    assert _delivered_ids(subscription) == {passing["id"]}


def test_fields_the_export_settings_remove_cannot_be_matched(environment):
    subscription = _subscription(environment, filter={"properties.values.rating": {"$gte": 4}})
    rated = event(properties={"values": {"rating": 5}})
    assert events_ingest(environment=environment, raw_events=[rated]).deliveries == 0
    export_settings_update(environment=environment, include_card_response_data=True)
    again = event(properties={"values": {"rating": 5}})
    assert events_ingest(environment=environment, raw_events=[again]).deliveries == 1
    assert _delivered_ids(subscription) == {again["id"]}


def test_a_removed_field_reads_as_missing_to_the_filter(environment):
    subscription = _subscription(environment, filter={"requestPayload": {"$exist": False}})
    with_payload = event(requestPayload={"campaign": "x"})
    assert events_ingest(environment=environment, raw_events=[with_payload]).deliveries == 1
    export_settings_update(environment=environment, include_request_payload=True)
    assert events_ingest(environment=environment, raw_events=[event(requestPayload={"campaign": "x"})]).deliveries == 0
    assert _delivered_ids(subscription) == {with_payload["id"]}


def test_the_filter_sees_test_events_only_when_export_settings_include_them(environment):
    subscription = _subscription(environment, filter={"test": True})
    assert events_ingest(environment=environment, raw_events=[event(test=True)]).deliveries == 0
    export_settings_update(environment=environment, include_test_events=True)
    sent = event(test=True)
    assert events_ingest(environment=environment, raw_events=[sent, event()]).deliveries == 1
    assert _delivered_ids(subscription) == {sent["id"]}


def test_warnings_name_the_paths_the_export_settings_remove(environment):
    subscription = _subscription(
        environment,
        filter={
            "$or": [{"properties.values.rating": 5}, {"requestPayload.campaign": "x"}],
            "properties.cardId": {"$exist": True},
        },
    )
    assert subscription_filter_warnings(subscription=subscription) == [
        "filter: properties.values.rating is removed by the export settings (Card response data is off), so the"
        " filter always sees it as missing",
        "filter: requestPayload.campaign is removed by the export settings (Request payload is off), so the"
        " filter always sees it as missing",
    ]
    export_settings_update(environment=environment, include_card_response_data=True, include_request_payload=True)
    assert subscription_filter_warnings(subscription=subscription) == []


def test_no_filter_no_warnings(environment):
    assert subscription_filter_warnings(subscription=_subscription(environment)) == []
