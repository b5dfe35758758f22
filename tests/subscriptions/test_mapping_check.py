"""A subscription's mapping through the API: its syntax checked on save, edited and cleared."""

import pytest

from subscriptions.models import Subscription
from tests.factories import subscription_payload

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def subscription(api) -> dict:
    response = api.post("/api/v1/subscriptions", subscription_payload(URL), format="json")
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
