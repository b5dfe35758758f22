"""Standard Webhooks signatures, checked against the official standardwebhooks library."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from outbound.signing import signature, signature_header

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
BODY = json.dumps({"id": "evt_1", "eventName": "card-completed"}).encode()
MESSAGE_ID = "msg_2Lq3"


def _headers(signature_value: str, timestamp: int, message_id: str = MESSAGE_ID) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature_value}


def test_signature_verifies_with_the_standardwebhooks_library():
    timestamp = int(time.time())
    value = signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=timestamp, body=BODY)

    assert Webhook(SECRET).verify(BODY, _headers(value, timestamp)) == json.loads(BODY)


def test_signature_matches_the_library_sign_for_the_same_input():
    timestamp = int(time.time())
    expected = Webhook(SECRET).sign(MESSAGE_ID, datetime.fromtimestamp(timestamp, tz=UTC), BODY.decode())

    assert signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=timestamp, body=BODY) == expected


def test_signature_is_v1_hmac_sha256_of_id_timestamp_and_body():
    key = bytes(range(32))
    expected = base64.b64encode(hmac.new(key, f"{MESSAGE_ID}.1700000000.".encode() + BODY, hashlib.sha256).digest())

    value = signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=1700000000, body=BODY)

    assert value == "v1," + expected.decode()


def test_secret_without_the_whsec_prefix_signs_the_same():
    bare = SECRET.removeprefix("whsec_")

    assert signature(secret=bare, message_id=MESSAGE_ID, timestamp=1, body=BODY) == signature(
        secret=SECRET, message_id=MESSAGE_ID, timestamp=1, body=BODY
    )


def test_tampered_body_fails_verification():
    timestamp = int(time.time())
    value = signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=timestamp, body=BODY)
    tampered = BODY.replace(b"card-completed", b"card-dismissed")

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, _headers(value, timestamp))


def test_different_message_id_fails_verification():
    timestamp = int(time.time())
    value = signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=timestamp, body=BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, _headers(value, timestamp, message_id="msg_other"))


def test_different_timestamp_fails_verification():
    timestamp = int(time.time())
    value = signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=timestamp - 1, body=BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, _headers(value, timestamp))


def test_signature_with_another_secret_fails_verification():
    timestamp = int(time.time())
    value = signature(secret=OTHER_SECRET, message_id=MESSAGE_ID, timestamp=timestamp, body=BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, _headers(value, timestamp))


def test_header_with_two_secrets_verifies_with_either_secret():
    timestamp = int(time.time())
    header = signature_header(secrets=[SECRET, OTHER_SECRET], message_id=MESSAGE_ID, timestamp=timestamp, body=BODY)

    assert Webhook(SECRET).verify(BODY, _headers(header, timestamp)) == json.loads(BODY)
    assert Webhook(OTHER_SECRET).verify(BODY, _headers(header, timestamp)) == json.loads(BODY)


def test_header_with_two_secrets_is_two_space_separated_signatures_in_order():
    header = signature_header(secrets=[SECRET, OTHER_SECRET], message_id=MESSAGE_ID, timestamp=5, body=BODY)

    assert header.split(" ") == [
        signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=5, body=BODY),
        signature(secret=OTHER_SECRET, message_id=MESSAGE_ID, timestamp=5, body=BODY),
    ]


def test_header_with_two_secrets_still_rejects_a_third_secret():
    timestamp = int(time.time())
    third = "whsec_" + base64.b64encode(b"x" * 32).decode()
    header = signature_header(secrets=[SECRET, OTHER_SECRET], message_id=MESSAGE_ID, timestamp=timestamp, body=BODY)

    with pytest.raises(WebhookVerificationError):
        Webhook(third).verify(BODY, _headers(header, timestamp))


def test_header_with_one_secret_is_a_single_signature():
    header = signature_header(secrets=[SECRET], message_id=MESSAGE_ID, timestamp=5, body=BODY)

    assert header == signature(secret=SECRET, message_id=MESSAGE_ID, timestamp=5, body=BODY)
    assert " " not in header
