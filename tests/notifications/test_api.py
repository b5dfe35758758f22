"""GET|PATCH /api/v1/notifications: the settings of the key's environment, refusals in the error envelope."""

from notifications.models import NotificationSettings


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


def test_the_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = schema["paths"]["/api/v1/notifications"]
    assert set(operations) >= {"get", "patch"}
    shape = schema["components"]["schemas"]["NotificationSettings"]
    assert shape["properties"]["secret"]["readOnly"] is True
    email_state = schema["components"]["schemas"]["EmailState"]["properties"]
    assert set(email_state) == {"email", "confirmed"}
    request_body = operations["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert schema["components"]["schemas"][request_body]["properties"]["emails"]["items"]["type"] == "string"
    assert "400" in operations["patch"]["responses"]
