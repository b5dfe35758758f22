"""A subscription's send_traceparent: false by default, set and changed through the API and the Workbench's form."""

import re

from subscriptions.models import Subscription
from tests.factories import member_client, subscription_payload

URL = "http://127.0.0.1:9/hook"


def test_the_api_sends_no_traceparent_unless_asked_and_changes_it(api):
    created = api.post("/api/v1/subscriptions", subscription_payload(URL), format="json")
    assert created.status_code == 201 and created.json()["send_traceparent"] is False

    changed = api.patch(f"/api/v1/subscriptions/{created.json()['id']}", {"send_traceparent": True}, format="json")
    assert changed.status_code == 200 and changed.json()["send_traceparent"] is True
    assert Subscription.objects.get().send_traceparent is True


def test_the_api_refuses_a_send_traceparent_that_is_not_a_boolean(api):
    response = api.post("/api/v1/subscriptions", subscription_payload(URL, send_traceparent="perhaps"), format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["send_traceparent"]
    assert not Subscription.objects.exists()


def test_the_workbench_form_shows_and_saves_send_traceparent(environment):
    editor = member_client(environment, "ed")
    page = editor.get("/admin/subscriptions/subscription/add/").content.decode()
    assert ">Send traceparent</label>" in page and 'name="send_traceparent"' in page
    data = {
        "environment": str(environment.pk),
        "name": "Traced sink",
        "event_types": ["card-completed"],
        "method": "POST",
        "url": URL,
        "max_retries": "23",
        "send_traceparent": "on",
        "_save": "Save",
    }
    assert editor.post("/admin/subscriptions/subscription/add/", data).status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.send_traceparent is True

    page = editor.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/").content.decode()
    assert re.search(r'<input type="checkbox" name="send_traceparent"[^>]* checked>', page)
    data = {**data, "send_traceparent": ""}
    data.pop("environment")
    assert editor.post(f"/admin/subscriptions/subscription/{subscription.pk}/change/", data).status_code == 302
    subscription.refresh_from_db()
    assert subscription.send_traceparent is False
