"""Mappings through the API: checked on save, previewed on an example, applied after the export settings."""

import pytest

from delivery.ingest import events_ingest
from subscriptions.models import Subscription
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


def test_a_syntax_error_is_400_with_its_line(api):
    payload = {**subscription_payload(URL), "mapping": "const a = 1;\nreturn {a: };"}
    response = api.post("/api/v1/subscriptions", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["mapping"][0].startswith("line 2:")
    assert Subscription.objects.count() == 0


def test_a_mapping_is_saved_edited_and_cleared(api, subscription):
    path = f"/api/v1/subscriptions/{subscription['id']}"
    assert api.patch(path, {"mapping": "return event;"}, format="json").json()["mapping"] == "return event;"
    bad = api.patch(path, {"mapping": "return (;"}, format="json")
    assert bad.status_code == 400 and "mapping" in bad.json()["error"]["fields"]
    assert Subscription.objects.get().mapping == "return event;"
    assert api.patch(path, {"mapping": None}, format="json").json()["mapping"] is None


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
