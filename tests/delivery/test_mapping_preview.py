"""The mapping preview through the API: a draft or the saved mapping run on an example, after the export settings."""

import pytest

from delivery.ingest import events_ingest
from tests.factories import event, subscription_payload

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def subscription(api) -> dict:
    response = api.post("/api/v1/subscriptions", subscription_payload(URL), format="json")
    return response.json()


def _preview(api, subscription, **body):
    response = api.post(f"/api/v1/subscriptions/{subscription['id']}/mapping/preview", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_preview_runs_a_draft_on_the_given_event(api, subscription):
    result = _preview(
        api,
        subscription,
        script="console.log('seen', event.id);\nreturn {who: event.endUserId};",
        event={"id": "e1", "endUserId": "u1", "requestPayload": {"secret": "campaign"}},
    )
    assert result["output"] == {"who": "u1"} and result["error"] is None and result["logs"] == ["seen e1"]
    assert result["example"] == {"id": "e1", "endUserId": "u1"}


def test_preview_reports_an_error_with_its_line(api, subscription):
    result = _preview(api, subscription, script="const x = event.id;\nreturn x.nope.deeper;", event={"id": "e"})
    assert result["output"] is None and result["error"]["line"] == 2
    assert "TypeError" in result["error"]["message"]


def test_preview_defaults_to_the_latest_matching_event_then_a_sample(api, environment, subscription):
    sample = _preview(api, subscription, script="return event.eventName;")
    assert sample["output"] == "card-completed" and sample["example"]["test"] is True
    latest = event(endUserId="latest-user")
    events_ingest(environment=environment, raw_events=[event(), latest, event("card-dismissed")])
    result = _preview(api, subscription, script="return event.endUserId;")
    assert result["output"] == "latest-user" and result["example"]["id"] == latest["id"]


def test_preview_without_a_script_runs_the_saved_mapping(api, subscription):
    api.patch(f"/api/v1/subscriptions/{subscription['id']}", {"mapping": "return null;"}, format="json")
    result = _preview(api, subscription, event={"id": "e"})
    assert result["skipped"] is True and result["output"] is None


def test_preview_of_another_environments_subscription_is_404(other_api, subscription):
    response = other_api.post(f"/api/v1/subscriptions/{subscription['id']}/mapping/preview", {}, format="json")
    assert response.status_code == 404


def test_preview_of_an_event_type_takes_its_latest_event_else_its_catalog_example(api, environment, subscription):
    example = _preview(api, subscription, script="return event.eventName;", event_type="card-dismissed")
    assert example["source"] == "example" and example["output"] == "card-dismissed"
    assert example["example"]["cardContext"]["cardInstanceStatus"] == "dismissed"
    dismissed = event("card-dismissed", endUserId="dismisser")
    events_ingest(environment=environment, raw_events=[dismissed, event(endUserId="completer")])
    latest = _preview(api, subscription, script="return event.endUserId;", event_type="card-dismissed")
    assert latest["source"] == "latest" and latest["output"] == "dismisser"
    given = _preview(api, subscription, event={"id": "pasted"}, event_type="card-dismissed")
    assert given["source"] == "given" and given["example"] == {"id": "pasted"}


def test_preview_of_an_unknown_event_type_is_400(api, subscription):
    path = f"/api/v1/subscriptions/{subscription['id']}/mapping/preview"
    response = api.post(path, {"event_type": "card-exploded"}, format="json")
    assert response.status_code == 400 and "event_type" in response.json()["error"]["fields"]


def _check(api, subscription, **body) -> list[dict]:
    response = api.post(f"/api/v1/subscriptions/{subscription['id']}/mapping/check", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_check_runs_the_draft_on_each_types_example_and_latest_event(api, environment):
    created = api.post(
        "/api/v1/subscriptions",
        subscription_payload(URL, event_types=["card-completed", "card-dismissed", "sdk-initialized"]),
        format="json",
    ).json()
    # A real card-dismissed without its cardContext: the draft that reads it throws there only.
    events_ingest(environment=environment, raw_events=[{**event("card-dismissed"), "cardContext": None}])
    results = _check(api, created, script="return {card: event.cardContext.cardTemplateId};")
    by_run = {(result["event_type"], result["source"]): result for result in results}
    assert list(by_run) == [
        ("card-completed", "example"),
        ("card-dismissed", "example"),
        ("card-dismissed", "latest"),
        ("sdk-initialized", "example"),
    ]
    assert by_run[("card-completed", "example")]["output"] == {"card": "card-feedback-7"}
    assert by_run[("card-dismissed", "example")]["error"] is None
    assert "TypeError" in by_run[("card-dismissed", "latest")]["error"]["message"]
    assert by_run[("card-dismissed", "latest")]["error"]["line"] == 1
    assert by_run[("sdk-initialized", "example")]["error"] is not None


def test_check_without_a_script_checks_the_saved_mapping(api, subscription):
    api.patch(f"/api/v1/subscriptions/{subscription['id']}", {"mapping": "return event.nope.x;"}, format="json")
    [result] = _check(api, subscription)
    assert result["source"] == "example" and result["error"] is not None


def test_check_of_another_environments_subscription_is_404(other_api, subscription):
    response = other_api.post(f"/api/v1/subscriptions/{subscription['id']}/mapping/check", {}, format="json")
    assert response.status_code == 404
