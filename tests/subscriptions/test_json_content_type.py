"""A subscription's content-type may be a JSON media type, in the API and the Workbench alike."""

from subscriptions.models import Subscription
from tests.factories import member_client, subscription_payload

URL = "http://127.0.0.1:9/hook"


def test_the_api_saves_an_aws_json_content_type_with_its_target(api):
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"}
    response = api.post("/api/v1/subscriptions", subscription_payload(URL, headers=headers), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["headers"] == headers

    changed = api.patch(
        f"/api/v1/subscriptions/{response.json()['id']}", {"headers": {"content-type": "text/csv"}}, format="json"
    )
    assert changed.status_code == 400
    assert changed.json()["error"]["fields"]["headers"][0].startswith("'content-type' must be a JSON media type")
    assert Subscription.objects.get().headers == headers


def test_the_workbench_saves_an_aws_json_content_type(environment):
    editor = member_client(environment, "ed")
    page = editor.get("/admin/subscriptions/subscription/add/").content.decode()
    assert "<code>Content-Type</code> may name a JSON media type" in page
    data = {
        "environment": str(environment.pk),
        "name": "Kinesis",
        "card": "",
        "event_types": ["card-completed"],
        "method": "POST",
        "url": URL,
        "header_lines": "Content-Type: application/x-amz-json-1.1\nX-Amz-Target: Kinesis_20131202.PutRecord",
        "credential": "",
        "max_retries": "23",
        "auto_disable": "on",
        "_save": "Save",
    }
    response = editor.post("/admin/subscriptions/subscription/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Subscription.objects.get().headers == {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Kinesis_20131202.PutRecord",
    }
