"""The Workbench: its changes are written with the member or operator as the actor, each audited object's History
reads the audit log (API and Outflow's own changes too), and the audit log pages change nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEntry
from credentials.services import credential_create
from notifications.services import notification_settings_update
from subscriptions.models import ExportSettings
from subscriptions.services import export_settings_update, subscription_create, subscription_pause_by_id
from tenancy.models import ApiKey, Member
from tenancy.services import environment_create
from tests.factories import member_client, subscription_form_data

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def editor(environment):
    return member_client(environment, "ed")


@pytest.fixture
def operator(db) -> Client:
    user = get_user_model().objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(user)
    return client


def test_a_workbench_change_names_the_member(editor, environment):
    response = editor.post("/admin/subscriptions/subscription/add/", subscription_form_data(environment, url=URL))
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="subscription.created")
    user = get_user_model().objects.get(username="ed")
    assert (entry.actor_type, entry.actor_id, entry.actor_name) == ("member", str(user.pk), "ed")
    subscription_id = entry.object_id
    editor.post(f"/admin/subscriptions/subscription/{subscription_id}/pause/")
    paused = AuditEntry.objects.get(action="subscription.paused")
    assert (paused.actor_type, paused.actor_name) == ("member", "ed")


def test_an_operator_s_change_names_the_operator(operator, environment):
    settings = ExportSettings.objects.get(environment=environment)
    response = operator.post(
        f"/admin/subscriptions/exportsettings/{settings.pk}/change/", {"include_test_events": "on", "_save": "Save"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="export_settings.updated")
    assert (entry.actor_type, entry.actor_name, entry.changes) == (
        "operator",
        "root",
        {"include_test_events": [False, True]},
    )


def test_the_history_of_a_subscription_reads_the_audit_log(editor, api, environment):
    created = api.post(
        "/api/v1/subscriptions",
        {"name": "sink", "event_types": ["card-completed"], "url": URL},
        format="json",
    ).json()
    api.patch(f"/api/v1/subscriptions/{created['id']}", {"max_retries": 3}, format="json")
    subscription_pause_by_id(subscription_id=created["id"], reason="retries exhausted")
    page = editor.get(f"/admin/subscriptions/subscription/{created['id']}/history/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("subscription.paused") < text.index("subscription.updated") < text.index("subscription.created")
    assert "Outflow (system)" in text and "(api_key)" in text and "max_retries" in text


@pytest.mark.parametrize("kind", ["credential", "exportsettings", "notificationsettings", "apikey"])
def test_each_audited_object_s_history_reads_the_audit_log(operator, environment, kind):
    """Each changed by a service called here (the test suite acts as an operator), each page read by another."""
    if kind == "credential":
        obj = credential_create(
            environment=environment, name="basic", type="basic_auth", values={"username": "u", "password": "p"}
        )
        path, action = "credentials/credential", "credential.created"
    elif kind == "exportsettings":
        obj = export_settings_update(environment=environment, include_test_events=True)
        path, action = "subscriptions/exportsettings", "export_settings.updated"
    elif kind == "notificationsettings":
        obj = notification_settings_update(environment=environment, emails=["ops@example.com"])
        path, action = "notifications/notificationsettings", "notifications.updated"
    else:
        obj = ApiKey.objects.get(environment=environment)
        path, action = "tenancy/apikey", "api_key.created"
    text = operator.get(f"/admin/{path}/{obj.pk}/history/").content.decode()
    assert action in text and "the test suite (operator)" in text


def test_a_member_s_history_reads_the_audit_log(operator, environment):
    member_client(environment, "olive", role="viewer")
    member = Member.objects.get(user__username="olive")
    response = operator.post(f"/admin/tenancy/member/{member.pk}/change/", {"role": "owner", "_save": "Save"})
    assert response.status_code == 302
    text = operator.get(f"/admin/tenancy/member/{member.pk}/history/").content.decode()
    assert "member.updated" in text and "member.added" in text and "root (operator)" in text


def test_another_environment_s_history_is_not_found(editor, catalog):
    other, _ = environment_create(name="globex")
    theirs = subscription_create(environment=other, name="theirs", event_types=["card-completed"], url=URL)
    assert editor.get(f"/admin/subscriptions/subscription/{theirs.pk}/history/").status_code == 404


def test_the_audit_log_pages_read_and_change_nothing(editor, operator, environment, catalog):
    other, _ = environment_create(name="globex")
    subscription_create(environment=other, name="theirs", event_types=["card-completed"], url=URL)
    listing = editor.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    shown = {entry.environment_id for entry in listing.context["cl"].result_list}
    assert shown == {environment.pk}
    entry = AuditEntry.objects.filter(environment=environment).first()
    theirs = AuditEntry.objects.filter(environment=other).first()
    assert editor.get(f"/admin/audit/auditentry/{theirs.pk}/change/").status_code == 404
    for client in (editor, operator):
        assert client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
        client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"actor_name": "someone"})
        assert client.get("/admin/audit/auditentry/add/").status_code == 403
    entry_after = AuditEntry.objects.get(pk=entry.pk)
    assert entry_after.actor_name == entry.actor_name
    assert 'name="_save"' not in operator.get(f"/admin/audit/auditentry/{entry.pk}/change/").content.decode()
