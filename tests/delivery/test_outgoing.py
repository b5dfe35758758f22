"""The outgoing request: the subscription's JSON content type goes instead of application/json, and SigV4 signs it."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from standardwebhooks.webhooks import Webhook

from delivery.outgoing import outgoing_headers
from subscriptions.models import Subscription
from tests import secrets
from tests.aws_verification import expected_authorization, expected_query_signature
from tests.e2e.steps import ingest, subscribe
from tests.factories import event

AWS_JSON = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"}


def test_the_subscriptions_content_type_is_sent_and_the_signature_still_verifies(api, receiver, attempt_pending):
    subscription = subscribe(api, receiver, headers={"CONTENT-TYPE": "application/cloudevents+json"})
    ingest(api, event())
    attempt_pending()

    [request] = receiver.received("/hook")
    assert request.headers["content-type"] == "application/cloudevents+json"
    secret = api.get(f"/api/v1/subscriptions/{subscription['id']}/secret").json()["secret"]
    assert Webhook(secret).verify(request.body, request.headers)["eventName"] == "card-completed"


def test_the_content_type_is_one_header_whatever_case_it_was_saved_in(api, receiver):
    subscribe(api, receiver, headers={"Content-Type": "application/x-amz-json-1.1", "X-Team": "data"})
    headers = outgoing_headers(
        subscription=Subscription.objects.get(), signing_secrets=["whsec_" + "A" * 44], message_id="m1", body=b"{}"
    )
    assert [name for name in headers if name.lower() == "content-type"] == ["content-type"]
    assert headers["content-type"] == "application/x-amz-json-1.1" and headers["X-Team"] == "data"


@pytest.mark.parametrize("sign_query", [False, True], ids=["header", "query"])
def test_sigv4_signs_the_content_type_and_target_that_are_sent(api, receiver, attempt_pending, sign_query):
    credential = api.post(
        "/api/v1/credentials",
        {
            "name": "aws",
            "type": "aws_signed_request",
            "access_key_id": "AKIAOUTFLOWTEST",
            "secret_access_key": secrets.AWS_SECRET_ACCESS_KEY,
            "region": "eu-west-1",
            "service": "sqs",
            "sign_query": sign_query,
        },
        format="json",
    ).json()["id"]
    subscribe(api, receiver, headers=AWS_JSON, credential=credential)
    ingest(api, event())
    attempt_pending()

    [request] = receiver.received()
    assert request.headers["content-type"] == "application/x-amz-json-1.0"
    assert request.headers["x-amz-target"] == "AmazonSQS.SendMessage"
    keys = {"access_key_id": "AKIAOUTFLOWTEST", "secret_access_key": secrets.AWS_SECRET_ACCESS_KEY}
    if sign_query:
        signed = dict(parse_qsl(urlsplit(request.path).query))["X-Amz-SignedHeaders"].split(";")
        assert "authorization" not in request.headers
        expected, sent = expected_query_signature(request, region="eu-west-1", service="sqs", **keys)
        assert expected == sent
    else:
        signed = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        assert (
            expected_authorization(request, region="eu-west-1", service="sqs", **keys)
            == request.headers["authorization"]
        )
    assert {"content-type", "x-amz-target", "host", "webhook-signature"} <= set(signed)
