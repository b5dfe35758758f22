"""AWS SigV4 signing, checked as a receiver would: botocore recomputes the signature from what arrived."""

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from credentials.aws_signing import aws_region_and_service, aws_sign
from tests.aws_verification import expected_authorization, expected_query_signature

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
AMZ_DATE = "20260314T092653Z"
ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/session+token=="
REGION = "eu-west-1"
SERVICE = "execute-api"
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/hooks/order-paid"
BODY = json.dumps(
    {"type": "payment.succeeded", "data": {"amount": 1250, "currency": "EUR", "note": "café"}}, separators=(",", ":")
).encode()
HEADERS = {
    "Content-Type": "application/json",
    "webhook-id": "msg_2aP1x9Qk",
    "webhook-timestamp": "1773480413",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    "X-Tenant": "acme   corp",
}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass
class Received:
    """A request as the receiving server sees it; header names lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def sign(**overrides) -> tuple[str, dict[str, str]]:
    arguments = {
        "method": "POST",
        "url": URL,
        "headers": HEADERS,
        "body": BODY,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "session_token": None,
        "region": REGION,
        "service": SERVICE,
        "sign_query": False,
        "now": NOW,
    } | overrides
    return aws_sign(**arguments)


def as_received(*, method: str, url: str, headers: dict[str, str], body: bytes) -> Received:
    """What `requests` puts on the wire for these parts (urllib3 adds Host from the URL)."""
    prepared = requests.Request(method, url, headers=headers, data=body).prepare()
    received = {"host": urlsplit(prepared.url).netloc} | {
        name.lower(): value for name, value in prepared.headers.items()
    }
    return Received(method=prepared.method, path=prepared.path_url, headers=received, body=prepared.body)


def botocore_authorization(received: Received, *, service: str = SERVICE, region: str = REGION) -> str:
    """The Authorization header botocore's SigV4Auth.add_auth computes for the received request."""
    return expected_authorization(
        received, access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET_ACCESS_KEY, region=region, service=service
    )


def query_signature_matches(received: Received) -> bool:
    """Whether the X-Amz-Signature sent is the one botocore's SigV4 steps compute for the received request."""
    expected, sent = expected_query_signature(
        received, access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET_ACCESS_KEY, region=REGION, service=SERVICE
    )
    return expected == sent


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("session_token", [None, SESSION_TOKEN])
def test_header_signature_is_verified_by_botocore(method, session_token):
    url, headers = sign(method=method, session_token=session_token)
    received = as_received(method=method, url=url, headers=headers, body=BODY)

    assert received.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20260314/")
    assert botocore_authorization(received) == received.headers["authorization"]


def test_header_signature_covers_every_given_header_and_host():
    _, headers = sign(session_token=SESSION_TOKEN)

    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert signed.split(";") == sorted(
        [name.lower() for name in HEADERS] + ["host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"]
    )


def test_header_mode_adds_date_payload_hash_and_session_token():
    url, headers = sign(session_token=SESSION_TOKEN)

    assert url == URL
    assert headers["X-Amz-Date"] == AMZ_DATE
    assert headers["X-Amz-Content-Sha256"] == hashlib.sha256(BODY).hexdigest()
    assert headers["X-Amz-Security-Token"] == SESSION_TOKEN
    assert {name: headers[name] for name in HEADERS} == HEADERS


def test_header_mode_without_session_token_sends_no_token():
    _, headers = sign(session_token=None)

    assert "X-Amz-Security-Token" not in headers
    assert "x-amz-security-token" not in headers["Authorization"]


def test_header_signature_covers_a_query_already_on_the_url():
    url, headers = sign(url=URL + "?source=outflow&tag=b&tag=a&note=hello world")
    received = as_received(method="POST", url=url, headers=headers, body=BODY)

    assert parse_qsl(urlsplit(url).query) == [
        ("source", "outflow"),
        ("tag", "b"),
        ("tag", "a"),
        ("note", "hello world"),
    ]
    assert botocore_authorization(received) == received.headers["authorization"]


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("session_token", [None, SESSION_TOKEN])
def test_query_signature_is_verified_by_botocore(method, session_token):
    url, headers = sign(method=method, session_token=session_token, sign_query=True)
    received = as_received(method=method, url=url, headers=headers, body=BODY)

    assert query_signature_matches(received)


def test_query_mode_puts_the_auth_parameters_in_the_url_and_no_authorization_header():
    url, headers = sign(session_token=SESSION_TOKEN, sign_query=True)

    params = dict(parse_qsl(urlsplit(url).query))
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Credential"] == f"{ACCESS_KEY_ID}/20260314/{REGION}/{SERVICE}/aws4_request"
    assert params["X-Amz-Date"] == AMZ_DATE
    assert params["X-Amz-Expires"] == "300"
    assert params["X-Amz-Security-Token"] == SESSION_TOKEN
    assert len(params["X-Amz-Signature"]) == 64
    assert "host" in params["X-Amz-SignedHeaders"].split(";")
    assert not {"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} & set(headers)


def test_query_mode_keeps_the_json_body_as_the_body_and_signs_its_hash():
    url, headers = sign(url=URL + "?source=outflow", sign_query=True)
    received = as_received(method="POST", url=url, headers=headers, body=BODY)

    names = [name for name, _ in parse_qsl(urlsplit(url).query)]
    assert [name for name in names if not name.startswith("X-Amz-")] == ["source"]
    assert received.body == BODY
    assert headers["X-Amz-Content-Sha256"] == hashlib.sha256(BODY).hexdigest() != "UNSIGNED-PAYLOAD"
    assert query_signature_matches(received)


def test_query_signature_merges_with_a_query_already_on_the_url():
    url, headers = sign(method="PUT", url=URL + "?source=outflow&tag=b&tag=a&empty=", sign_query=True)
    received = as_received(method="PUT", url=url, headers=headers, body=BODY)

    params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    assert params[:4] == [("source", "outflow"), ("tag", "b"), ("tag", "a"), ("empty", "")]
    assert query_signature_matches(received)


def test_query_signature_for_an_empty_body_matches_botocores_presigned_url():
    url, headers = sign(method="GET", body=b"", session_token=SESSION_TOKEN, sign_query=True)

    presign = AWSRequest(method="GET", url=URL, headers=HEADERS | {"X-Amz-Content-Sha256": EMPTY_SHA256})
    signer = SigV4QueryAuth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN), SERVICE, REGION, expires=300)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(presign)
    assert dict(parse_qsl(urlsplit(url).query)) == dict(parse_qsl(urlsplit(presign.url).query))


@pytest.mark.parametrize("sign_query", [False, True])
def test_a_changed_body_fails_verification(sign_query):
    url, headers = sign(sign_query=sign_query)
    received = as_received(method="POST", url=url, headers=headers, body=BODY.replace(b"1250", b"9250"))

    if sign_query:
        assert not query_signature_matches(received)
    else:
        assert botocore_authorization(received) != received.headers["authorization"]


@pytest.mark.parametrize("sign_query", [False, True])
def test_a_changed_webhook_header_fails_verification(sign_query):
    url, headers = sign(sign_query=sign_query)
    received = as_received(method="POST", url=url, headers=headers | {"webhook-id": "msg_other"}, body=BODY)

    if sign_query:
        assert not query_signature_matches(received)
    else:
        assert botocore_authorization(received) != received.headers["authorization"]


@pytest.mark.parametrize("sign_query", [False, True])
def test_signing_a_signed_request_again_replaces_the_old_signature(sign_query):
    first_url, first_headers = sign(session_token=SESSION_TOKEN, sign_query=sign_query)
    url, headers = sign(
        url=first_url, headers=first_headers, session_token=None, sign_query=sign_query, now=NOW + timedelta(minutes=5)
    )
    received = as_received(method="POST", url=url, headers=headers, body=BODY)

    if sign_query:
        names = [name for name, _ in parse_qsl(urlsplit(url).query)]
        assert sorted(names) == sorted(set(names))
        assert "X-Amz-Security-Token" not in names
        assert query_signature_matches(received)
    else:
        assert headers["X-Amz-Date"] == "20260314T093153Z"
        assert "X-Amz-Security-Token" not in headers
        assert botocore_authorization(received) == received.headers["authorization"]


@pytest.mark.parametrize("sign_query", [False, True])
def test_path_and_query_come_back_encoded_as_sent(sign_query):
    url, headers = sign(url=URL.replace("order-paid", "café order%2fpaid%7e") + "?q=a b&x=1%2B2", sign_query=sign_query)
    received = as_received(method="POST", url=url, headers=headers, body=BODY)

    assert urlsplit(url).path == "/prod/hooks/caf%C3%A9%20order%2Fpaid~"
    assert urlsplit(url).query.startswith("q=a%20b&x=1%2B2")
    assert requests.Request("POST", url).prepare().url == url
    if sign_query:
        assert query_signature_matches(received)
    else:
        assert botocore_authorization(received) == received.headers["authorization"]


def test_s3_signature_uses_the_path_as_sent():
    url, headers = sign(
        method="PUT", url="https://exports.s3.eu-west-2.amazonaws.com/events/a b.json", region="eu-west-2", service="s3"
    )
    received = as_received(method="PUT", url=url, headers=headers, body=BODY)

    assert received.path == "/events/a%20b.json"
    assert botocore_authorization(received, service="s3", region="eu-west-2") == received.headers["authorization"]


@pytest.mark.parametrize(
    "now",
    [NOW.replace(tzinfo=None), NOW.astimezone(timezone(timedelta(hours=2)))],
    ids=["naive-taken-as-utc", "other-zone-converted"],
)
def test_signing_time_is_sent_in_utc(now):
    _, headers = sign(now=now)

    assert headers["X-Amz-Date"] == AMZ_DATE


def test_hop_by_hop_and_user_agent_headers_are_sent_but_not_signed():
    _, headers = sign(headers=HEADERS | {"User-Agent": "Outflow/1.0", "Connection": "keep-alive"})

    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert headers["User-Agent"] == "Outflow/1.0"
    assert "user-agent" not in signed
    assert "connection" not in signed
    assert "webhook-id" in signed


def test_a_header_named_twice_in_different_cases_is_rejected():
    with pytest.raises(ValueError, match="same header twice"):
        sign(headers=HEADERS | {"content-type": "text/plain"})


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("abc123.execute-api.eu-west-1.amazonaws.com", ("eu-west-1", "execute-api")),
        ("ABC123.Execute-API.eu-west-1.amazonaws.com:443", ("eu-west-1", "execute-api")),
        ("abc123.execute-api.cn-north-1.amazonaws.com.cn", ("cn-north-1", "execute-api")),
        ("vpce-0a1b-c2d3.execute-api.us-east-1.vpce.amazonaws.com", ("us-east-1", "execute-api")),
        ("xyz.lambda-url.us-east-1.on.aws", ("us-east-1", "lambda")),
        ("sqs.us-east-2.amazonaws.com", ("us-east-2", "sqs")),
        ("sns.ap-south-1.amazonaws.com", ("ap-south-1", "sns")),
        ("events.eu-central-1.amazonaws.com", ("eu-central-1", "events")),
        ("sqs-fips.us-gov-west-1.amazonaws.com", ("us-gov-west-1", "sqs")),
        ("bucket.s3.eu-west-2.amazonaws.com", ("eu-west-2", "s3")),
        ("s3.eu-west-2.amazonaws.com", ("eu-west-2", "s3")),
        ("bucket.s3-eu-west-2.amazonaws.com", ("eu-west-2", "s3")),
        ("s3.dualstack.eu-west-2.amazonaws.com", ("eu-west-2", "s3")),
        ("s3.amazonaws.com", ("us-east-1", "s3")),
        ("bucket.s3.amazonaws.com", ("us-east-1", "s3")),
        ("s3.cn-northwest-1.amazonaws.com.cn", ("cn-northwest-1", "s3")),
        ("firehose.ca-central-1.amazonaws.com", ("ca-central-1", "firehose")),
        ("my-stream.kinesis.eu-north-1.amazonaws.com", ("eu-north-1", "kinesis")),
        ("sqs.us-east-1.amazonaws.com", ("us-east-1", "sqs")),
        ("sqs-fips.us-east-1.amazonaws.com", ("us-east-1", "sqs")),
        ("sqs.us-east-1.api.aws", ("us-east-1", "sqs")),
        ("sqs-fips.us-gov-east-1.api.aws", ("us-gov-east-1", "sqs")),
        ("sqs.cn-north-1.amazonaws.com.cn", ("cn-north-1", "sqs")),
        ("sqs.cn-north-1.api.amazonwebservices.com.cn", ("cn-north-1", "sqs")),
        ("queue.amazonaws.com", ("us-east-1", "sqs")),
        ("eu-west-1.queue.amazonaws.com", ("eu-west-1", "sqs")),
        ("events.eu-west-1.amazonaws.com", ("eu-west-1", "events")),
        ("events-fips.us-west-2.amazonaws.com", ("us-west-2", "events")),
        ("events.eu-west-1.api.aws", ("eu-west-1", "events")),
        ("kinesis.us-east-1.amazonaws.com", ("us-east-1", "kinesis")),
        ("kinesis-fips.us-gov-west-1.amazonaws.com", ("us-gov-west-1", "kinesis")),
        ("kinesis.ap-southeast-2.api.aws", ("ap-southeast-2", "kinesis")),
        ("123456789012.data-kinesis.us-east-1.amazonaws.com", ("us-east-1", "kinesis")),
        ("123456789012.control-kinesis-fips.us-east-1.api.aws", ("us-east-1", "kinesis")),
        ("firehose.eu-west-1.amazonaws.com", ("eu-west-1", "firehose")),
        ("firehose-fips.us-east-2.amazonaws.com", ("us-east-2", "firehose")),
        ("firehose.sa-east-1.api.aws", ("sa-east-1", "firehose")),
        # EventBridge global endpoints sign with SigV4a (no region), which Outflow does not do.
        ("abcde.veo.endpoint.events.amazonaws.com", (None, None)),
        ("vpce.amazonaws.com", (None, None)),
        ("api.aws", (None, None)),
        ("sqs.us-east-1.api.aws.evil.example", (None, None)),
        ("amazonaws.com", (None, None)),
        ("iam.amazonaws.com", (None, None)),
        ("hooks.example.com", (None, None)),
        ("execute-api.eu-west-1.example.com", (None, None)),
        ("amazonaws.com.evil.example", (None, None)),
        ("127.0.0.1", (None, None)),
    ],
)
def test_region_and_service_are_inferred_from_standard_aws_hosts(host, expected):
    assert aws_region_and_service(host=host) == expected


class _CapturingHandler(BaseHTTPRequestHandler):
    received: list[Received] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.received.append(Received(method=self.command, path=self.path, headers=headers, body=body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def loopback():
    handler = type("Handler", (_CapturingHandler,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("sign_query", [False, True], ids=["header", "query"])
def test_signed_request_sent_over_loopback_is_verified_by_botocore(loopback, sign_query):
    base_url, received = loopback
    url, headers = sign(url=f"{base_url}/prod/hooks?source=outflow", session_token=SESSION_TOKEN, sign_query=sign_query)

    response = requests.post(url, headers=headers, data=BODY, timeout=5)

    assert response.status_code == 204
    [request] = received
    assert request.body == BODY
    assert request.headers["host"] == urlsplit(base_url).netloc
    assert request.path.startswith("/prod/hooks?source=outflow")
    if sign_query:
        assert query_signature_matches(request)
    else:
        assert botocore_authorization(request) == request.headers["authorization"]
