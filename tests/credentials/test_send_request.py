"""The Send Request step: each method, JSON and text bodies, a credential, and the same guard as deliveries."""

import base64
import json
import uuid

import pytest
from django.test import override_settings

from tests import secrets
from tests.moto_server import REGION


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_each_method_reaches_the_endpoint_and_answers_its_response(api, receiver, method):
    receiver.script("/step", statuses=[200], body=b'{"ok": true}', headers={"Content-Type": "application/json"})
    response = api.post(
        "/api/v1/send-request",
        {"method": method, "url": receiver.url("/step"), "headers": {"X-Flow": "f1"}, "body": {"a": 1}},
        format="json",
    )
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == 200 and result["body"] == {"ok": True} and result["error"] is None
    assert result["duration_ms"] >= 0
    [request] = receiver.received("/step")
    assert request.method == method and request.headers["x-flow"] == "f1"
    assert json.loads(request.body) == {"a": 1} and request.headers["content-type"] == "application/json"


def test_a_text_body_is_sent_as_text(api, receiver):
    receiver.script("/step", statuses=[202], body=b"queued")
    result = api.post(
        "/api/v1/send-request", {"method": "POST", "url": receiver.url("/step"), "body": "hello"}, format="json"
    ).json()
    assert result["status"] == 202 and result["body"] == "queued"
    [request] = receiver.received()
    assert request.body == b"hello" and request.headers["content-type"].startswith("text/plain")


def test_a_credential_authenticates_the_request(api, receiver):
    credential = api.post(
        "/api/v1/credentials",
        {"name": "b", "type": "basic_auth", "username": "flow", "password": secrets.PASSWORD},
        format="json",
    ).json()
    api.post(
        "/api/v1/send-request",
        {"method": "GET", "url": receiver.url("/step"), "credential": credential["id"]},
        format="json",
    )
    [request] = receiver.received()
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"flow:{secrets.PASSWORD}".encode()).decode()


def test_an_unreachable_endpoint_answers_the_error(api):
    result = api.post("/api/v1/send-request", {"method": "GET", "url": "http://127.0.0.1:9/"}, format="json").json()
    assert result["status"] is None and result["error"].startswith("connection error")


@override_settings(OUTFLOW_ALLOW_PRIVATE_TARGETS=False)
def test_private_targets_are_refused(api, receiver):
    response = api.post("/api/v1/send-request", {"method": "GET", "url": receiver.url("/step")}, format="json")
    assert "url" in _error(response, 400)["fields"]
    assert receiver.received() == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"method": "TRACE", "url": "http://127.0.0.1:9/"}, "method"),
        ({"method": "GET"}, "url"),
        ({"method": "GET", "url": "http://127.0.0.1:9/", "headers": {"Host": "evil"}}, "headers"),
        (
            {"method": "GET", "url": "http://127.0.0.1:9/", "credential": "00000000-0000-0000-0000-000000000000"},
            "credential",
        ),
    ],
)
def test_bad_input_is_400_naming_the_field(api, payload, field):
    assert field in _error(api.post("/api/v1/send-request", payload, format="json"), 400)["fields"]


def test_an_aws_json_call_is_signed_over_its_content_type_and_target_and_moto_takes_it(api, moto):
    sqs = moto.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"send-request-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    credential = api.post(
        "/api/v1/credentials",
        {
            "name": "moto",
            "type": "aws_signed_request",
            "access_key_id": moto.access_key_id,
            "secret_access_key": moto.secret_access_key,
            "region": REGION,
            "service": "sqs",
        },
        format="json",
    ).json()["id"]
    step = {
        "method": "POST",
        "url": f"{moto.url}/",
        "headers": {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"},
        "body": {"QueueUrl": queue_url, "MessageBody": "from an Action Flow"},
        "credential": credential,
    }
    result = api.post("/api/v1/send-request", step, format="json").json()

    assert result["status"] == 200 and result["error"] is None
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert message["Body"] == "from an Action Flow" and message["MessageId"] == result["body"]["MessageId"]
