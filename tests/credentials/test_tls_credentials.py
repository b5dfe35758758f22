"""TLS credentials through the API: validation on save, what reads show, check, and their use by subscriptions,
Send Request, deliveries and /metrics, against a real HTTPS receiver that requires a client certificate."""

import datetime

import pytest
from django.db import connection
from django.test import override_settings

from credentials.models import Credential
from credentials.tls import tls_value_errors
from delivery.ingest import events_ingest
from delivery.models import Delivery
from tests import secrets
from tests.delivery.steps import attempt
from tests.factories import event, subscription_payload
from tests.mtls import mutual_tls_endpoint
from tests.tls_material import TestCa


def _tls_payload(endpoint, **changes) -> dict:
    return {
        "name": "Partner mTLS",
        "type": "tls",
        "certificate": endpoint.client.certificate,
        "private_key": endpoint.client.private_key,
        "ca_certificates": endpoint.ca.pem,
        **changes,
    }


def _create(api, payload) -> dict:
    response = api.post("/api/v1/credentials", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _fields(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]["fields"]


def test_reads_show_subject_issuer_and_expiry_never_the_key(api, mtls_endpoint):
    created = _create(api, _tls_payload(mtls_endpoint))
    read = api.get(f"/api/v1/credentials/{created['id']}").json()
    assert read["certificate_subject"] == "CN=outflow-client"
    assert read["certificate_issuer"] == "CN=Outflow Test CA"
    expires = datetime.datetime.fromisoformat(read["certificate_expires_at"])
    assert datetime.timedelta(days=29) < expires - datetime.datetime.now(datetime.UTC) <= datetime.timedelta(days=30)
    assert read["private_key_set"] is True and "private_key" not in read
    assert read["ca_certificates"] == mtls_endpoint.ca.pem
    key_body = mtls_endpoint.client.private_key.splitlines()[1]
    assert key_body not in str(read) and key_body not in str(created)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM credentials_credential WHERE id = %s", [created["id"]])
        assert key_body not in cursor.fetchone()[0]
    assert Credential.objects.get().secrets["private_key"] == mtls_endpoint.client.private_key


def test_ca_certificates_alone_are_a_tls_credential(api, mtls_endpoint):
    created = _create(api, {"name": "CA only", "type": "tls", "ca_certificates": mtls_endpoint.ca.pem})
    assert created["certificate_expires_at"] is None and created["private_key_set"] is False


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"private_key": ""}, "private_key", "go together"),
        ({"certificate": ""}, "certificate", "go together"),
        ({"certificate": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}, "certificate", "PEM"),
        ({"private_key": "a key"}, "private_key", "unencrypted PEM private key"),
        ({"ca_certificates": "not a bundle"}, "ca_certificates", "PEM certificates"),
        ({"certificate": "", "private_key": "", "ca_certificates": ""}, "certificate", "give a certificate"),
    ],
)
def test_invalid_material_is_refused_naming_the_field(api, mtls_endpoint, changes, field, message):
    fields = _fields(api.post("/api/v1/credentials", _tls_payload(mtls_endpoint, **changes), format="json"))
    assert message in fields[field][0]
    assert Credential.objects.count() == 0


def test_a_key_of_another_certificate_is_refused(api, mtls_endpoint):
    other = mtls_endpoint.ca.issue("someone", server=False)
    payload = _tls_payload(mtls_endpoint, private_key=other.private_key)
    fields = _fields(api.post("/api/v1/credentials", payload, format="json"))
    assert fields["private_key"] == ["the private key does not belong to the certificate"]


def test_an_encrypted_key_is_refused(api, mtls_endpoint):
    locked = mtls_endpoint.ca.issue("locked", server=False, key_password=b"passphrase")
    payload = _tls_payload(mtls_endpoint, certificate=locked.certificate, private_key=locked.private_key)
    fields = _fields(api.post("/api/v1/credentials", payload, format="json"))
    assert fields["private_key"] == ["the private key is encrypted; give it without a passphrase"]


def test_changing_the_certificate_alone_checks_it_against_the_stored_key(api, mtls_endpoint):
    created = _create(api, _tls_payload(mtls_endpoint))
    other = mtls_endpoint.ca.issue("renewed", server=False)
    refused = api.patch(f"/api/v1/credentials/{created['id']}", {"certificate": other.certificate}, format="json")
    assert _fields(refused)["private_key"] == ["the private key does not belong to the certificate"]
    renewed = api.patch(
        f"/api/v1/credentials/{created['id']}",
        {"certificate": other.certificate, "private_key": other.private_key},
        format="json",
    )
    assert renewed.status_code == 200 and renewed.json()["certificate_subject"] == "CN=renewed"


def test_check_of_a_tls_credential_says_the_key_matches_and_when_it_expires(api, mtls_endpoint):
    created = _create(api, _tls_payload(mtls_endpoint))
    answer = api.post(f"/api/v1/credentials/{created['id']}/check").json()
    assert answer["ok"] is True and answer["key_matches"] is True
    assert answer["expires_at"] == created["certificate_expires_at"]
    assert answer["ca_certificates_expire_at"] and "expires at" in answer["message"]


def test_check_of_an_expired_certificate_is_not_ok(api, mtls_endpoint):
    old = mtls_endpoint.ca.issue("old", server=False, days=-1)
    created = _create(api, _tls_payload(mtls_endpoint, certificate=old.certificate, private_key=old.private_key))
    answer = api.post(f"/api/v1/credentials/{created['id']}/check").json()
    assert answer["ok"] is False and answer["key_matches"] is True and answer["message"] == "a certificate has expired"


def test_check_of_an_oauth_credential_answers_the_token_endpoints_status_never_the_token(api, receiver):
    payload = {
        "name": "OAuth",
        "type": "oauth_client_credentials",
        "token_url": receiver.url("/token"),
        "client_id": "c",
        "client_secret": secrets.CLIENT_SECRET,
    }
    created = _create(api, payload)
    receiver.script("/token", statuses=[401], body=b'{"error": "invalid_client"}')
    refused = api.post(f"/api/v1/credentials/{created['id']}/check").json()
    assert refused == {"ok": False, "status": 401, "message": "token endpoint answered 401 (invalid_client)"}
    receiver.script("/token", statuses=[200], body=f'{{"access_token": "{secrets.ACCESS_TOKEN}"}}'.encode())
    response = api.post(f"/api/v1/credentials/{created['id']}/check")
    assert response.json() == {"ok": True, "status": 200, "message": "the token endpoint gave a token"}
    assert secrets.ACCESS_TOKEN.encode() not in response.content
    assert len(receiver.received("/token")) == 2


def test_check_of_a_basic_credential_says_there_is_nothing_to_check(api):
    created = _create(api, {"name": "b", "type": "basic_auth", "username": "u", "password": secrets.PASSWORD})
    answer = api.post(f"/api/v1/credentials/{created['id']}/check").json()
    assert answer["ok"] is None and answer["message"].startswith("nothing to check")


def test_check_of_another_environments_credential_is_404(api, other_api, mtls_endpoint):
    created = _create(api, _tls_payload(mtls_endpoint))
    assert other_api.post(f"/api/v1/credentials/{created['id']}/check").status_code == 404


def test_a_subscription_takes_only_a_tls_credential_of_its_environment(api, other_api, mtls_endpoint):
    tls = _create(api, _tls_payload(mtls_endpoint))
    basic = _create(api, {"name": "b", "type": "basic_auth", "username": "u", "password": secrets.PASSWORD})
    foreign = _create(other_api, _tls_payload(mtls_endpoint))
    url = mtls_endpoint.url("/hook")
    for wrong in (basic["id"], foreign["id"]):
        payload = subscription_payload(url, tls_credential=wrong)
        fields = _fields(api.post("/api/v1/subscriptions", payload, format="json"))
        assert fields["tls_credential"] == [f"no TLS credential {wrong} in this environment"]
    fields = _fields(api.post("/api/v1/subscriptions", subscription_payload(url, credential=tls["id"]), format="json"))
    assert fields["credential"] == ["a TLS credential is given as tls_credential"]
    created = api.post("/api/v1/subscriptions", subscription_payload(url, tls_credential=tls["id"]), format="json")
    assert created.status_code == 201 and created.json()["tls_credential"] == tls["id"]
    cleared = api.patch(f"/api/v1/subscriptions/{created.json()['id']}", {"tls_credential": None}, format="json")
    assert cleared.json()["tls_credential"] is None


def test_a_tls_credential_in_use_cannot_be_deleted(api, mtls_endpoint):
    tls = _create(api, _tls_payload(mtls_endpoint))
    url = mtls_endpoint.url("/hook")
    api.post("/api/v1/subscriptions", subscription_payload(url, tls_credential=tls["id"]), format="json")
    response = api.delete(f"/api/v1/credentials/{tls['id']}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "credential_in_use"


def test_a_delivery_with_the_tls_credential_arrives_and_one_without_fails_the_handshake(
    api, environment, mtls_endpoint
):
    tls = _create(api, _tls_payload(mtls_endpoint))
    url = mtls_endpoint.url("/hook")
    api.post("/api/v1/subscriptions", subscription_payload(url, name="with", tls_credential=tls["id"]), format="json")
    ca_only = _create(api, {"name": "CA", "type": "tls", "ca_certificates": mtls_endpoint.ca.pem})
    payload = subscription_payload(url, name="without", tls_credential=ca_only["id"])
    api.post("/api/v1/subscriptions", payload, format="json")
    events_ingest(environment=environment, raw_events=[event()])
    for delivery in Delivery.objects.all():
        attempt(delivery)
    delivered = Delivery.objects.get(subscription__name="with")
    assert (delivered.status, delivered.last_status_code) == (Delivery.Status.SUCCEEDED, 204)
    failed = Delivery.objects.get(subscription__name="without")
    assert failed.status == Delivery.Status.RETRYING and failed.attempts == 1
    assert failed.last_error.startswith("TLS error") and "client certificate" in failed.last_error
    [received] = mtls_endpoint.receiver.received("/hook")
    assert received.headers["webhook-id"] == str(delivered.pk)


def test_send_test_and_send_request_present_the_client_certificate(api, mtls_endpoint):
    tls = _create(api, _tls_payload(mtls_endpoint))
    url = mtls_endpoint.url("/hook")
    subscription = api.post(
        "/api/v1/subscriptions", subscription_payload(url, tls_credential=tls["id"]), format="json"
    ).json()
    tested = api.post(f"/api/v1/subscriptions/{subscription['id']}/test", {}, format="json").json()
    assert tested["response_status"] == 204 and not tested["error"]
    sent = api.post(
        "/api/v1/send-request", {"method": "GET", "url": url, "tls_credential": tls["id"]}, format="json"
    ).json()
    assert sent["status"] == 204 and sent["error"] is None
    without = api.post("/api/v1/send-request", {"method": "GET", "url": url}, format="json").json()
    assert without["status"] is None and without["error"].startswith("TLS error")
    assert len(mtls_endpoint.receiver.received("/hook")) == 2


def test_an_oauth_token_is_fetched_with_the_requests_tls_credential(api, environment):
    """The token endpoint requires the client certificate too (mutual-TLS client authentication)."""
    endpoint = mutual_tls_endpoint()
    try:
        token = f'{{"access_token": "{secrets.ACCESS_TOKEN}"}}'.encode()
        endpoint.receiver.script("/token", statuses=[200], body=token)
        tls = _create(api, _tls_payload(endpoint))
        oauth = _create(
            api,
            {
                "name": "OAuth",
                "type": "oauth_client_credentials",
                "token_url": endpoint.url("/token"),
                "client_id": "c",
                "client_secret": secrets.CLIENT_SECRET,
            },
        )
        body = {"method": "GET", "url": endpoint.url("/hook"), "credential": oauth["id"], "tls_credential": tls["id"]}
        sent = api.post("/api/v1/send-request", body, format="json").json()
    finally:
        endpoint.receiver.close()
    assert sent["status"] == 204
    [hook] = endpoint.receiver.received("/hook")
    assert hook.headers["authorization"] == f"Bearer {secrets.ACCESS_TOKEN}"


def test_metrics_name_a_certificate_that_expires_within_14_days(api, client, mtls_endpoint):
    soon = mtls_endpoint.ca.issue("soon", server=False, days=5)
    expiring = _create(api, _tls_payload(mtls_endpoint, name="expiring", **soon.__dict__))
    _create(api, _tls_payload(mtls_endpoint, name="fine"))
    with override_settings(OUTFLOW_METRICS_TOKEN=""):
        text = client.get("/metrics").content.decode()
    [line] = [line for line in text.splitlines() if line.startswith("outflow_tls_certificate_expires_in_seconds{")]
    assert f'credential="{expiring["id"]}"' in line and 'name="expiring"' in line
    assert 4 * 86400 < float(line.rsplit(" ", 1)[1]) <= 5 * 86400


def test_a_certificate_of_an_unknown_ca_is_still_accepted_on_save():
    """Trust is the endpoint's to decide: a certificate is checked for form and key, not for its issuer."""
    stranger = TestCa("Elsewhere").issue("client", server=False)
    assert tls_value_errors({"certificate": stranger.certificate, "private_key": stranger.private_key}) == {}
