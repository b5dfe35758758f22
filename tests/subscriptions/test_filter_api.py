"""The subscription's `filter` through the API: stored and read back, 400s naming the path and the problem, the
`warnings` of paths the export settings remove, and `matches_filter` of the mapping preview."""

import json

import pytest

from subscriptions.models import Subscription
from tests.factories import event, subscription_payload

URL = "http://127.0.0.1:9/hook"
FILTER = {"cardContext.cardTemplateId": {"$in": ["card-7", "card-8"]}, "$not": {"endUserId": {"$startsWith": "qa-"}}}


def _create(api, **fields):
    return api.post("/api/v1/subscriptions", subscription_payload(URL, **fields), format="json")


def _refusal(response) -> dict:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    return error["fields"]


def test_a_filter_is_stored_and_read_back(api):
    created = _create(api, filter=FILTER)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["filter"] == FILTER and body["warnings"] == []
    assert api.get(f"/api/v1/subscriptions/{body['id']}").json()["filter"] == FILTER
    assert Subscription.objects.get().filter == FILTER


def test_no_filter_reads_as_null(api):
    assert _create(api).json()["filter"] is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"endUserId": {"$regex": ".*"}}, "endUserId: unknown operator $regex"),
        ({"properties.rating": {"$gt": "a", "$lt": [1]}}, "properties.rating: $lt compares with a number or a string"),
        ({"$and": [{"a": 1}, {"b": {"$in": "x"}}]}, "$and[1] > b: $in takes a non-empty list of values, not a string"),
        ({"a": {"$exist": "yes"}}, "a: $exist takes true or false, not a string"),
        ("endUserId == 'x'", "a filter is a JSON object, not a string"),
        ([{"a": 1}], "a filter is a JSON object, not a list"),
        (5, "a filter is a JSON object, not a number"),
    ],
)
def test_an_invalid_filter_is_400_naming_filter_the_path_and_the_problem(api, spec, message):
    fields = _refusal(_create(api, filter=spec))
    assert list(fields) == ["filter"]
    assert any(problem.startswith(message) for problem in fields["filter"]), fields
    assert not Subscription.objects.exists()


def test_a_filter_naming_ten_thousand_paths_is_400(api):
    spec = {f"properties.p{n}": n for n in range(10000)}
    fields = _refusal(_create(api, filter=spec))
    assert fields["filter"][0].endswith("bytes as compact JSON; at most 4096")


def test_a_small_filter_naming_too_many_paths_is_400(api):
    fields = _refusal(_create(api, filter={f"p{n}": 1 for n in range(65)}))
    assert fields == {"filter": ["p64: the filter names more than 64 paths"]}


def test_a_filter_nested_too_deep_is_400(api):
    spec: dict = {"a": 1}
    for _ in range(40):
        spec = {"$not": spec}
    assert _refusal(_create(api, filter=spec)) == {
        "filter": ["the filter nests deeper than 8 levels (objects and lists)"]
    }


def test_patch_sets_changes_and_removes_the_filter(api):
    subscription = _create(api).json()
    url = f"/api/v1/subscriptions/{subscription['id']}"
    assert api.patch(url, {"filter": FILTER}, format="json").json()["filter"] == FILTER
    refused = api.patch(url, {"filter": {"a": {"$nope": 1}}}, format="json")
    assert _refusal(refused)["filter"][0].startswith("a: unknown operator $nope")
    assert Subscription.objects.get().filter == FILTER
    assert api.patch(url, {"name": "renamed"}, format="json").json()["filter"] == FILTER
    assert api.patch(url, {"filter": None}, format="json").json()["filter"] is None


def test_warnings_name_paths_the_export_settings_remove(api):
    body = _create(api, filter={"properties.values.rating": {"$gte": 4}, "requestPayload.campaign": "x"}).json()
    assert body["warnings"] == [
        "filter: properties.values.rating is removed by the export settings (Card response data is off), so the"
        " filter always sees it as missing",
        "filter: requestPayload.campaign is removed by the export settings (Request payload is off), so the"
        " filter always sees it as missing",
    ]
    api.patch("/api/v1/export-settings", {"include_card_response_data": True}, format="json")
    [listed] = api.get("/api/v1/subscriptions").json()["results"]
    assert listed["warnings"] == [body["warnings"][1]]


def test_another_environment_sees_no_filter_of_this_one(api, other_api):
    created = _create(api, filter=FILTER).json()
    assert other_api.get(f"/api/v1/subscriptions/{created['id']}").status_code == 404
    assert other_api.patch(f"/api/v1/subscriptions/{created['id']}", {"filter": None}, format="json").status_code == 404
    assert Subscription.objects.get().filter == FILTER


def test_a_huge_filter_body_is_refused_without_a_500(api):
    body = json.dumps(subscription_payload(URL, filter={"a": {"$in": ["x" * 100] * 50000}}))
    response = api.generic("POST", "/api/v1/subscriptions", body, content_type="application/json")
    assert response.status_code in (400, 413), response.content
    assert not Subscription.objects.exists()


def _preview(api, subscription_id, **body) -> dict:
    response = api.post(f"/api/v1/subscriptions/{subscription_id}/mapping/preview", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_preview_says_whether_the_example_passes_the_filter(api):
    subscription = _create(api, filter={"endUserId": "user-42"}).json()
    assert _preview(api, subscription["id"], event=event(endUserId="user-42"))["matches_filter"] is True
    assert _preview(api, subscription["id"], event=event(endUserId="user-7"))["matches_filter"] is False
    failing = _preview(api, subscription["id"], script="throw new Error('x')", event=event(endUserId="user-7"))
    assert failing["error"] is not None and failing["matches_filter"] is False


def test_the_preview_matches_the_example_after_export_settings(api):
    subscription = _create(api, filter={"properties.values.rating": 5}).json()
    rated = event(properties={"values": {"rating": 5}})
    assert _preview(api, subscription["id"], event=rated)["matches_filter"] is False
    api.patch("/api/v1/export-settings", {"include_card_response_data": True}, format="json")
    assert _preview(api, subscription["id"], event=rated)["matches_filter"] is True


def test_without_a_filter_every_example_passes(api):
    subscription = _create(api).json()
    assert _preview(api, subscription["id"], event=event())["matches_filter"] is True
