"""A subscription's `rate_limit`: API.md's rules (1-10000 or null) in the API and the Workbench, in the same words."""

import pytest

from subscriptions.models import Subscription
from tests.factories import member_client, subscription_form_data, subscription_payload

URL = "http://127.0.0.1:9/hook"
ADD = "/admin/subscriptions/subscription/add/"


def test_the_api_stores_reads_and_changes_a_rate_limit(api):
    created = api.post("/api/v1/subscriptions", subscription_payload(URL, rate_limit=5), format="json")
    assert created.status_code == 201 and created.json()["rate_limit"] == 5
    path = f"/api/v1/subscriptions/{created.json()['id']}"

    assert api.get(path).json()["rate_limit"] == 5
    assert api.patch(path, {"rate_limit": 10000}, format="json").json()["rate_limit"] == 10000
    assert api.patch(path, {"name": "Renamed"}, format="json").json()["rate_limit"] == 10000
    assert api.patch(path, {"rate_limit": None}, format="json").json()["rate_limit"] is None
    assert Subscription.objects.get().rate_limit is None


def test_no_rate_limit_by_default(api):
    body = api.post("/api/v1/subscriptions", subscription_payload(URL), format="json").json()
    assert body["rate_limit"] is None


@pytest.mark.parametrize("value", [0, -1, 10001, 2.5, "fast", True])
def test_the_api_refuses_a_rate_limit_outside_1_to_10000_with_the_field_named(api, value):
    response = api.post("/api/v1/subscriptions", subscription_payload(URL, rate_limit=value), format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == ["rate_limit"]
    assert not Subscription.objects.exists()


def test_a_patch_out_of_range_changes_nothing(api):
    created = api.post("/api/v1/subscriptions", subscription_payload(URL, rate_limit=5), format="json").json()
    response = api.patch(f"/api/v1/subscriptions/{created['id']}", {"rate_limit": 0, "name": "x"}, format="json")
    assert response.status_code == 400 and "rate_limit" in response.json()["error"]["fields"]
    stored = Subscription.objects.get()
    assert stored.rate_limit == 5 and stored.name == "Analytics sink"


def test_the_workbench_form_has_a_rate_limit_field_that_adds_and_changes_it(environment):
    editor = member_client(environment, "ed")
    page = editor.get(ADD).content.decode()
    assert ">Rate limit:</label>" in page and 'name="rate_limit"' in page

    response = editor.post(ADD, subscription_form_data(environment, rate_limit="5"))
    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.rate_limit == 5

    change = f"/admin/subscriptions/subscription/{subscription.pk}/change/"
    assert 'name="rate_limit" value="5"' in editor.get(change).content.decode()
    assert editor.post(change, subscription_form_data(environment, rate_limit="")).status_code == 302
    subscription.refresh_from_db()
    assert subscription.rate_limit is None


@pytest.mark.parametrize(("api_value", "form_value"), [(0, "0"), (10001, "10001"), ("fast", "fast")])
def test_the_form_refuses_what_the_api_refuses_in_the_same_words(environment, api, api_value, form_value):
    api_response = api.post("/api/v1/subscriptions", subscription_payload(URL, rate_limit=api_value), format="json")
    api_messages = api_response.json()["error"]["fields"]["rate_limit"]
    response = member_client(environment, "ed").post(ADD, subscription_form_data(environment, rate_limit=form_value))
    assert response.status_code == 200
    errors = {name: list(messages) for name, messages in response.context["adminform"].form.errors.items()}
    assert errors == {"rate_limit": api_messages}
    assert not Subscription.objects.exists()
