"""No secret the suite used appears in any API response, log record, request log row or audit log entry it
produced."""

import pytest

from credentials.send_request import request_send
from delivery.send_test import subscription_test_send
from subscriptions.services import subscription_create
from tests import leak_watch, secrets, tls_material
from tests.mtls import mutual_tls_endpoint

pytestmark = pytest.mark.secret_scan


def _exercise_every_credential(api, environment, receiver) -> None:
    """Use each secret once here too, so the scan means something when this test runs alone."""
    receiver.script("/token", statuses=[200], body=f'{{"access_token": "{secrets.ACCESS_TOKEN}"}}'.encode())
    payloads = secrets.credential_payloads(token_url=receiver.url("/token"))
    for payload in payloads:
        credential = api.post("/api/v1/credentials", {"name": payload["type"], **payload}, format="json").json()
        api.get(f"/api/v1/credentials/{credential['id']}")
        subscription = subscription_create(
            environment=environment,
            name=payload["type"],
            event_types=["card-completed"],
            url=receiver.url("/hook?x=1"),
            credential=credential["id"],
            headers={"X-Api-Key": secrets.HEADER_SECRET},
        )
        subscription_test_send(subscription=subscription)
        request_send(
            environment=environment,
            method="POST",
            url=receiver.url("/step"),
            headers={},
            body={"a": 1},
            credential_id=credential["id"],
        )
        api.get(f"/api/v1/subscriptions/{subscription.pk}/requests")
    [_, oauth, _] = [request for request in receiver.received() if request.path.startswith("/hook")]
    assert oauth.headers["authorization"] == f"Bearer {secrets.ACCESS_TOKEN}"
    _exercise_a_tls_credential(api, environment)


def _exercise_a_tls_credential(api, environment) -> None:
    endpoint = mutual_tls_endpoint()
    try:
        payload = {"certificate": endpoint.client.certificate, "private_key": endpoint.client.private_key}
        payload.update(name="tls", type="tls", ca_certificates=endpoint.ca.pem)
        credential = api.post("/api/v1/credentials", payload, format="json").json()
        api.get(f"/api/v1/credentials/{credential['id']}")
        api.post(f"/api/v1/credentials/{credential['id']}/check")
        subscription = subscription_create(
            environment=environment,
            name="tls",
            event_types=["card-completed"],
            url=endpoint.url("/hook"),
            tls_credential=credential["id"],
        )
        assert subscription_test_send(subscription=subscription).response_status == 204
    finally:
        endpoint.receiver.close()


def _private_key_lines() -> list[str]:
    """A line of each private key the suite made: long enough that it cannot appear by chance."""
    return [key.splitlines()[1] for key in tls_material.ISSUED_PRIVATE_KEYS]


def test_no_secret_appears_in_anything_the_suite_produced(api, environment, receiver):
    _exercise_every_credential(api, environment, receiver)
    leak_watch.record_request_log()
    leak_watch.record_audit_log()
    produced = {
        **leak_watch.PRODUCED,
        "worker and beat logs": [path.read_text() for path in leak_watch.process_logs()],
    }

    assert len(produced["api responses"]) >= 9 and len(produced["request log rows"]) >= 3
    assert len(produced["audit log entries"]) >= 6
    leaks = [
        (kind, secret)
        for kind, texts in produced.items()
        for text in texts
        for secret in (*secrets.ALL, *_private_key_lines())
        if secret in text
    ]
    assert leaks == []
