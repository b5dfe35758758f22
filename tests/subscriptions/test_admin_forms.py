"""The Workbench's subscription forms: the API's rules and messages, through the same services."""

import pytest

from credentials.services import credential_create
from subscriptions.models import Subscription
from tenancy.services import environment_create
from tests import secrets
from tests.factories import member_client, subscription_form_data, subscription_payload
from tests.tls_material import TestCa

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def editor(environment):
    return member_client(environment, "ed")


def _form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {name: list(messages) for name, messages in form.errors.items()}


def test_an_editor_adds_a_subscription_with_headers_a_credential_and_event_types(editor, environment):
    credential = credential_create(
        environment=environment, name="Basic", type="basic_auth", values={"username": "u", "password": secrets.PASSWORD}
    )
    page = editor.get("/admin/subscriptions/subscription/add/").content.decode()
    for label in ["Name", "Card", "Event types", "Request method", "URL", "Headers", "Credential", "Max retries"]:
        assert f">{label}:</label>" in page, label
    assert ">Auto-disable</label>" in page and "An end user completed a card." in page
    assert 'type="checkbox" name="event_types" value="card-completed"' in page

    data = subscription_form_data(
        environment,
        card="card-7",
        event_types=["card-completed", "card-dismissed"],
        method="PUT",
        header_lines="X-Team: growth\n\nX-Api-Key: " + secrets.HEADER_SECRET,
        credential=str(credential.pk),
        max_retries="5",
        auto_disable="",
    )
    response = editor.post("/admin/subscriptions/subscription/add/", data)
    assert response.status_code == 302, _form_errors(response)
    subscription = Subscription.objects.get()
    assert subscription.environment == environment and subscription.card == "card-7" and subscription.method == "PUT"
    assert subscription.headers == {"X-Team": "growth", "X-Api-Key": secrets.HEADER_SECRET}
    assert subscription.credential == credential and subscription.max_retries == 5 and not subscription.auto_disable
    assert sorted(subscription.event_types.values_list("name", flat=True)) == ["card-completed", "card-dismissed"]
    assert subscription.secret.startswith("whsec_")

    change = f"/admin/subscriptions/subscription/{subscription.pk}/change/"
    page = editor.get(change).content.decode()
    assert secrets.HEADER_SECRET not in page and "X-Api-Key: ********" in page and "whsec_" not in page
    response = editor.post(
        change,
        subscription_form_data(
            environment,
            card="another-card",
            header_lines="X-Team: data\nX-Api-Key: ********",
            credential="",
            event_types=["card-expired"],
        ),
    )
    assert response.status_code == 302, _form_errors(response)
    subscription.refresh_from_db()
    assert subscription.card == "card-7", "the card is fixed once saved"
    assert subscription.headers == {"X-Team": "data", "X-Api-Key": secrets.HEADER_SECRET}
    assert subscription.credential is None
    assert list(subscription.event_types.values_list("name", flat=True)) == ["card-expired"]


@pytest.mark.parametrize(
    ("api_fields", "form_fields", "api_field", "form_field"),
    [
        ({"name": ""}, {"name": ""}, "name", "name"),
        ({"name": "x" * 101}, {"name": "x" * 101}, "name", "name"),
        ({"event_types": []}, {"event_types": []}, "event_types", "event_types"),
        ({"url": "ftp://example.com/x"}, {"url": "ftp://example.com/x"}, "url", "url"),
        ({"url": "not a url"}, {"url": "not a url"}, "url", "url"),
        ({"url": ""}, {"url": ""}, "url", "url"),
        ({"headers": {"Bad Header": "x"}}, {"header_lines": "Bad Header: x"}, "headers", "header_lines"),
        ({"headers": {"Host": "x"}}, {"header_lines": "Host: x"}, "headers", "header_lines"),
        ({"headers": {"webhook-id": "x"}}, {"header_lines": "webhook-id: x"}, "headers", "header_lines"),
        (
            {"headers": {"Content-Type": "text/plain"}},
            {"header_lines": "Content-Type: text/plain"},
            "headers",
            "header_lines",
        ),
        (
            {"headers": {"X-A": "1", "x-a": "2"}},
            {"header_lines": "X-A: 1\nx-a: 2"},
            "headers",
            "header_lines",
        ),
        ({"max_retries": 51}, {"max_retries": "51"}, "max_retries", "max_retries"),
        ({"max_retries": -1}, {"max_retries": "-1"}, "max_retries", "max_retries"),
    ],
)
def test_the_form_refuses_what_the_api_refuses_in_the_same_words(
    editor, api, environment, api_fields, form_fields, api_field, form_field
):
    api_response = api.post("/api/v1/subscriptions", {**subscription_payload(URL), **api_fields}, format="json")
    assert api_response.status_code == 400
    api_messages = api_response.json()["error"]["fields"][api_field]
    errors = _form_errors(
        editor.post("/admin/subscriptions/subscription/add/", subscription_form_data(environment, **form_fields))
    )
    assert errors == {form_field: api_messages}
    assert not Subscription.objects.exists()


def test_header_lines_must_be_name_colon_value(editor, environment):
    errors = _form_errors(
        editor.post(
            "/admin/subscriptions/subscription/add/",
            subscription_form_data(environment, header_lines="X-Ok: 1\nno colon"),
        )
    )
    assert errors == {"header_lines": ["line 2: expected Name: value"]}


def test_the_subscription_limit_is_the_apis(editor, environment, settings):
    settings.OUTFLOW_MAX_SUBSCRIPTIONS = 0
    errors = _form_errors(editor.post("/admin/subscriptions/subscription/add/", subscription_form_data(environment)))
    assert errors == {"__all__": ["an environment has at most 0 subscriptions"]}


def test_a_member_adds_only_to_their_environments_with_their_credentials(editor, environment, catalog):
    other, _ = environment_create(name="globex")
    theirs = credential_create(
        environment=other, name="Theirs", type="basic_auth", values={"username": "u", "password": secrets.PASSWORD}
    )
    page = editor.get("/admin/subscriptions/subscription/add/").content.decode()
    assert "globex" not in page and "Theirs" not in page
    errors = _form_errors(
        editor.post("/admin/subscriptions/subscription/add/", subscription_form_data(other, credential=str(theirs.pk)))
    )
    assert set(errors) == {"environment", "credential"}
    assert not Subscription.objects.exists()


def test_an_editor_gives_a_subscription_a_tls_credential_offered_only_as_one(editor, environment):
    ca = TestCa()
    client = ca.issue("client", server=False)
    tls = credential_create(
        environment=environment,
        name="Partner mTLS",
        type="tls",
        values={"certificate": client.certificate, "private_key": client.private_key},
    )
    basic = credential_create(
        environment=environment, name="Basic", type="basic_auth", values={"username": "u", "password": secrets.PASSWORD}
    )
    form = editor.get("/admin/subscriptions/subscription/add/").context["adminform"].form
    assert list(form.fields["tls_credential"].queryset) == [tls]
    assert list(form.fields["credential"].queryset) == [basic]
    data = subscription_form_data(environment, credential=str(basic.pk), tls_credential=str(tls.pk))
    response = editor.post("/admin/subscriptions/subscription/add/", data)
    assert response.status_code == 302, _form_errors(response)
    assert Subscription.objects.get().tls_credential == tls
