"""End to end: deliveries authenticated by saved credentials, through a real worker, to a real receiver."""

import base64
import json

import pytest

from delivery.models import Delivery
from requestlog.models import RequestLog
from tests import secrets
from tests.aws_verification import expected_authorization, expected_query_signature
from tests.e2e.steps import ingest, subscribe, wait_until
from tests.factories import event

pytestmark = pytest.mark.e2e
TOKEN = json.dumps({"access_token": secrets.ACCESS_TOKEN, "expires_in": 3600}).encode()


def _credential(api, **payload) -> str:
    response = api.post("/api/v1/credentials", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _oauth_credential(api, receiver) -> str:
    return _credential(
        api,
        name="o",
        type="oauth_client_credentials",
        token_url=receiver.url("/token"),
        client_id="c1",
        client_secret=secrets.CLIENT_SECRET,
    )


def test_basic_auth_header_is_sent(worker, api, receiver):
    credential = _credential(api, name="b", type="basic_auth", username="outflow", password=secrets.PASSWORD)
    subscribe(api, receiver, credential=credential)
    ingest(api, event())
    [request] = receiver.wait_for(1, "/hook")
    expected = "Basic " + base64.b64encode(f"outflow:{secrets.PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == expected


def test_many_deliveries_across_worker_threads_fetch_one_token(worker, api, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN, delay=0.3)
    credential = _oauth_credential(api, receiver)
    subscribe(api, receiver, credential=credential)
    ingest(api, *[event() for _ in range(20)])

    delivered = receiver.wait_for(20, "/hook")
    assert {request.headers["authorization"] for request in delivered} == {f"Bearer {secrets.ACCESS_TOKEN}"}
    assert len(receiver.received("/token")) == 1


def test_a_401_refetches_the_token_and_the_retry_succeeds(worker, api, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN)
    receiver.script("/hook", statuses=[401, 204])
    credential = _oauth_credential(api, receiver)
    subscribe(api, receiver, credential=credential)
    ingest(api, event())
    receiver.wait_for(2, "/hook")
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.SUCCEEDED)
    assert len(receiver.received("/token")) == 2


def test_a_failing_token_endpoint_fails_the_attempt_with_a_clear_error(worker, api, receiver):
    receiver.script("/token", statuses=[500])
    credential = _oauth_credential(api, receiver)
    subscribe(api, receiver, credential=credential, max_retries=1)
    ingest(api, event())
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.FAILED)
    assert receiver.received("/hook") == []
    errors = set(RequestLog.objects.values_list("error", flat=True))
    assert errors == {"OAuth: token endpoint answered 500"}


@pytest.mark.parametrize("sign_query", [False, True])
@pytest.mark.parametrize("session_token", [None, secrets.AWS_SESSION_TOKEN])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_aws_signature_verifies_with_botocore(worker, api, receiver, sign_query, session_token, method):
    values = {"session_token": session_token} if session_token else {}
    credential = _credential(
        api,
        name="aws",
        type="aws_signed_request",
        access_key_id="AKIDEXAMPLE",
        secret_access_key=secrets.AWS_SECRET_ACCESS_KEY,
        region="eu-west-1",
        service="execute-api",
        sign_query=sign_query,
        **values,
    )
    subscribe(api, receiver, "/prod/hook?stage=live", credential=credential, method=method, headers={"X-Team": "g"})
    sent = event()
    ingest(api, sent)

    [request] = receiver.wait_for(1)
    assert request.method == method and json.loads(request.body)["id"] == sent["id"]
    keys = {
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": secrets.AWS_SECRET_ACCESS_KEY,
        "region": "eu-west-1",
        "service": "execute-api",
    }
    if sign_query:
        assert "authorization" not in request.headers
        expected, signature = expected_query_signature(request, **keys)
        assert signature == expected
        assert ("X-Amz-Security-Token=" in request.path) is bool(session_token)
    else:
        assert request.headers["authorization"] == expected_authorization(request, **keys)
        assert request.headers.get("x-amz-security-token") == session_token
    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.SUCCEEDED)
    log = RequestLog.objects.get()
    assert secrets.AWS_SECRET_ACCESS_KEY not in json.dumps(log.request_headers) + log.url
