"""GET|PATCH /api/v1/notifications: the settings of the key's environment, refusals in the error envelope; POST
/api/v1/notifications/secret/rotate: a new secret, the old one signing alongside for the grace period."""

import json
import logging
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifications.models import Notification, NotificationSettings
from notifications.sending import notification_send
from notifications.services import notification_record
from requestlog.models import RequestLog

ROTATE = "/api/v1/notifications/secret/rotate"


def test_get_makes_the_settings_with_a_secret_and_shows_it(api):
    body = api.get("/api/v1/notifications").json()

    assert body["webhook_url"] is None and body["emails"] == []
    assert body["secret"].startswith("whsec_")
    assert api.get("/api/v1/notifications").json()["secret"] == body["secret"]


def test_patch_sets_and_clears_the_webhook_and_the_emails(api, receiver):
    secret = api.get("/api/v1/notifications").json()["secret"]

    response = api.patch(
        "/api/v1/notifications", {"webhook_url": receiver.url("/ops"), "emails": ["ops@example.com"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "webhook_url": receiver.url("/ops"),
        "emails": [{"email": "ops@example.com", "confirmed": False}],
        "secret": secret,
    }

    cleared = api.patch("/api/v1/notifications", {"webhook_url": None}, format="json").json()
    assert cleared["webhook_url"] is None and cleared["emails"] == [{"email": "ops@example.com", "confirmed": False}]


def _refused(api, body) -> dict:
    response = api.patch("/api/v1/notifications", body, format="json")
    assert response.status_code == 400, response.json()
    return response.json()["error"]


def test_bad_input_is_a_400_in_the_envelope_and_changes_nothing(api, receiver, settings):
    api.patch("/api/v1/notifications", {"webhook_url": receiver.url("/ops")}, format="json")
    settings.OUTFLOW_ALLOW_PRIVATE_TARGETS = False

    assert "webhook_url" in _refused(api, {"webhook_url": "http://169.254.169.254/latest"})["fields"]
    assert "webhook_url" in _refused(api, {"webhook_url": "file:///etc/passwd"})["fields"]
    assert _refused(api, {"emails": ["ops@example.com", "not-an-email"]})["fields"] == {
        "emails": ["'not-an-email' is not a valid email address"]
    }
    assert _refused(api, {"emails": [f"o{n}@example.com" for n in range(11)]})["fields"] == {
        "emails": ["at most 10 addresses"]
    }
    assert _refused(api, {"emails": "ops@example.com"})["code"] == "invalid"
    for address, problem in [
        ("user@[127.0.0.1]", "a domain literal ([…]) is not accepted"),
        ("user@localhost", "a single-label domain is not accepted"),
        ("user@intranet", "a single-label domain is not accepted"),
        ("user@mail.corp", "an internal domain (.corp) is not accepted"),
        ("user@mail.example", "an internal domain (.example) is not accepted"),
        ("user@x.test", "an internal domain (.test) is not accepted"),
    ]:
        refusal = _refused(api, {"emails": [address]})
        assert refusal["code"] == "invalid" and refusal["fields"] == {"emails": [f"{address!r}: {problem}"]}
    secret_refusal = _refused(api, {"secret": "whsec_" + "A" * 44})
    assert secret_refusal["code"] == "invalid" and "read-only" in secret_refusal["fields"]["secret"][0]
    assert _refused(api, {"webhook_url": 5, "emails": [None]})["code"] == "invalid"

    stored = NotificationSettings.objects.get()
    assert stored.webhook_url == receiver.url("/ops") and stored.emails == [] and "A" * 44 not in stored.secret


def test_a_key_reads_and_changes_only_its_own_environments_settings(api, other_api, receiver):
    ours = api.patch("/api/v1/notifications", {"emails": ["ours@example.com"]}, format="json").json()
    theirs = other_api.get("/api/v1/notifications").json()

    assert theirs["emails"] == [] and theirs["secret"] != ours["secret"]
    other_api.patch("/api/v1/notifications", {"emails": ["theirs@example.com"]}, format="json")
    assert api.get("/api/v1/notifications").json()["emails"] == [{"email": "ours@example.com", "confirmed": False}]
    assert NotificationSettings.objects.count() == 2


def test_without_a_key_it_is_401(client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post(ROTATE).status_code == 401


def test_the_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = schema["paths"]["/api/v1/notifications"]
    assert set(operations) >= {"get", "patch"}
    rotate = schema["paths"][ROTATE]
    assert set(rotate) == {"post"} and "requestBody" not in rotate["post"]
    answer = rotate["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(schema["components"]["schemas"][answer]["properties"]) == {"secret"}
    shape = schema["components"]["schemas"]["NotificationSettings"]
    assert shape["properties"]["secret"]["readOnly"] is True
    email_state = schema["components"]["schemas"]["EmailState"]["properties"]
    assert set(email_state) == {"email", "confirmed"}
    request_body = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert schema["components"]["schemas"][request_body]["properties"]["emails"]["items"]["type"] == "string"
    assert "400" in operations["patch"]["responses"]


def _webhook_received(environment, receiver) -> tuple[bytes, dict]:
    """A notification sent now, in this process as the notifier would, and what the receiver got."""
    [notification] = notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
    notification_send(notification_id=notification.pk)
    request = receiver.received("/ops")[-1]
    return request.body, request.headers


def test_rotate_answers_the_new_secret_once_and_the_settings_show_it(api):
    old = api.get("/api/v1/notifications").json()["secret"]

    response = api.post(ROTATE)

    assert response.status_code == 200 and set(response.json()) == {"secret"}
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert api.get("/api/v1/notifications").json()["secret"] == new
    stored = NotificationSettings.objects.get()
    assert stored.previous_secret == old and stored.previous_secret_expires_at > timezone.now() + timedelta(hours=23)
    assert api.get(ROTATE).status_code == 405


def test_during_the_grace_period_both_secrets_verify_and_after_it_only_the_new(api, environment, receiver):
    old = api.patch("/api/v1/notifications", {"webhook_url": receiver.url("/ops")}, format="json").json()["secret"]
    new = api.post(ROTATE).json()["secret"]

    body, headers = _webhook_received(environment, receiver)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(body, headers) == Webhook(new).verify(body, headers) == json.loads(body)

    NotificationSettings.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    body, headers = _webhook_received(environment, receiver)
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(body, headers)["type"] == "subscription.resumed"
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


def test_the_grace_period_is_the_subscriptions_setting(api, settings):
    settings.OUTFLOW_SECRET_ROTATION_HOURS = 2
    before = timezone.now()

    api.post(ROTATE)

    expires = NotificationSettings.objects.get().previous_secret_expires_at
    assert before + timedelta(hours=2) <= expires <= timezone.now() + timedelta(hours=2)


def test_a_second_rotation_stops_the_first_secret_at_once(api, environment, receiver):
    first = api.patch("/api/v1/notifications", {"webhook_url": receiver.url("/ops")}, format="json").json()["secret"]
    second = api.post(ROTATE).json()["secret"]
    third = api.post(ROTATE).json()["secret"]

    body, headers = _webhook_received(environment, receiver)

    assert Webhook(second).verify(body, headers) == Webhook(third).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(body, headers)


def test_a_key_rotates_only_its_own_environments_secret(api, other_api):
    theirs = other_api.get("/api/v1/notifications").json()["secret"]

    api.post(ROTATE)

    assert other_api.get("/api/v1/notifications").json()["secret"] == theirs


def test_neither_secret_reaches_the_logs_the_request_log_or_the_history(api, environment, receiver, caplog):
    receiver.script("/ops", statuses=[500])
    old = api.patch("/api/v1/notifications", {"webhook_url": receiver.url("/ops")}, format="json").json()["secret"]
    with caplog.at_level(logging.DEBUG):
        new = api.post(ROTATE).json()["secret"]
        _webhook_received(environment, receiver)

    assert "failed: endpoint answered 500" in caplog.text
    stored = [json.dumps(list(rows.values()), default=str) for rows in (RequestLog.objects, LogEntry.objects)]
    for secret in (old, new):
        for text in (caplog.text, *stored):
            assert secret not in text and secret.removeprefix("whsec_") not in text


def test_test_sends_a_signed_notification_test_to_the_webhook_or_says_there_is_nowhere(api, other_api, receiver):
    refused = api.post("/api/v1/notifications/test")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_channel"
    api.patch("/api/v1/notifications", {"webhook_url": receiver.url("/ops")}, format="json")
    answer = api.post("/api/v1/notifications/test")
    assert answer.status_code == 200 and answer.json() == {"type": "notification.test", "channels": ["webhook"]}
    notification = Notification.objects.get(type="notification.test")
    notification_send(notification_id=notification.pk)
    [request] = receiver.received("/ops")
    secret = api.get("/api/v1/notifications").json()["secret"]
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "notification.test" and body["data"]["message"]
    assert other_api.post("/api/v1/notifications/test").status_code == 409
    assert Notification.objects.filter(type="notification.test").count() == 1
