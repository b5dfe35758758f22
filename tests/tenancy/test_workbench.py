"""The Workbench's access rule: members see only their environments (404 elsewhere), viewers read, editors change."""

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from credentials.services import credential_create
from delivery.ingest import events_ingest
from delivery.models import Delivery, Event, Recovery
from delivery.recovery import recovery_continue
from requestlog.models import RequestLog
from subscriptions.models import ExportSettings, Subscription
from subscriptions.services import subscription_create, subscription_pause
from tenancy.models import Member
from tenancy.services import environment_create
from tests import secrets
from tests.factories import event, member_client

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def theirs(catalog):
    """Another environment with one of everything the Workbench shows."""
    environment, _ = environment_create(name="globex")
    credential = credential_create(
        environment=environment,
        name="Globex basic",
        type="basic_auth",
        values={"username": "g", "password": secrets.PASSWORD},
    )
    subscription = subscription_create(
        environment=environment,
        name="Globex sink",
        event_types=["card-completed"],
        url=URL,
        credential=credential.pk,
    )
    events_ingest(environment=environment, raw_events=[event()])
    entry = RequestLog.objects.create(subscription=subscription, method="POST", url=URL, response_status=200)
    return {
        "environment": environment,
        "credential": credential,
        "subscription": subscription,
        "entry": entry,
        "event": Event.objects.get(environment=environment),
        "delivery": Delivery.objects.get(subscription=subscription),
        "export_settings": ExportSettings.objects.get(environment=environment),
    }


@pytest.fixture
def ours(environment):
    subscription = subscription_create(
        environment=environment, name="Acme sink", event_types=["card-completed"], url=URL
    )
    return {"subscription": subscription}


@pytest.fixture
def editor(environment):
    return member_client(environment, "ed")


@pytest.fixture
def viewer(environment):
    return member_client(environment, "vi", role="viewer")


def test_create_member_prints_the_json_line_then_adds_environments_and_changes_roles(environment, catalog):
    out = StringIO()
    call_command("create_member", "acme", "dana", "--role", "viewer", stdout=out)
    line = json.loads(out.getvalue())
    assert list(line) == ["username", "password", "environment", "role"]
    assert line["username"] == "dana" and line["environment"] == str(environment.pk) and line["role"] == "viewer"
    user = get_user_model().objects.get(username="dana")
    assert user.check_password(line["password"]) and user.is_staff and not user.is_superuser
    assert not user.user_permissions.exists() and not user.get_all_permissions()

    other, _ = environment_create(name="globex")
    out = StringIO()
    call_command("create_member", str(other.pk), "dana", stdout=out)
    assert json.loads(out.getvalue()) == {"username": "dana", "environment": str(other.pk), "role": "editor"}
    call_command("create_member", "acme", "dana", "--role", "editor", stdout=StringIO())
    assert sorted(Member.objects.filter(user=user).values_list("role", flat=True)) == ["editor", "editor"]
    with pytest.raises(CommandError, match="no environment"):
        call_command("create_member", "nowhere", "dana", stdout=StringIO())


def test_lists_show_only_the_members_environments(editor, ours, theirs):
    pages = [
        "/admin/subscriptions/subscription/",
        "/admin/credentials/credential/",
        "/admin/requestlog/requestlog/",
        "/admin/delivery/delivery/",
        "/admin/delivery/event/",
        "/admin/subscriptions/exportsettings/",
    ]
    for page in pages:
        response = editor.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        assert "globex" not in text.lower(), page
        assert str(theirs["subscription"].pk) not in text, page
    assert "Acme sink" in editor.get("/admin/subscriptions/subscription/").content.decode()
    index = editor.get("/admin/").content.decode()
    assert "Subscriptions" in index and "Credentials" in index
    assert "/admin/tenancy/environment/" not in index and "/admin/auth/user/" not in index


def _their_pages(theirs) -> list[str]:
    subscription = theirs["subscription"].pk
    return [
        f"/admin/subscriptions/subscription/{subscription}/change/",
        f"/admin/subscriptions/subscription/{subscription}/delete/",
        f"/admin/subscriptions/subscription/{subscription}/history/",
        f"/admin/subscriptions/subscription/{subscription}/mapping/",
        f"/admin/subscriptions/subscription/{subscription}/secret/",
        f"/admin/subscriptions/subscription/{subscription}/pause/",
        f"/admin/subscriptions/subscription/{subscription}/rotate-secret/",
        f"/admin/credentials/credential/{theirs['credential'].pk}/change/",
        f"/admin/credentials/credential/{theirs['credential'].pk}/delete/",
        f"/admin/requestlog/requestlog/{theirs['entry'].pk}/change/",
        f"/admin/delivery/delivery/{theirs['delivery'].pk}/change/",
        f"/admin/delivery/event/{theirs['event'].pk}/change/",
        f"/admin/subscriptions/exportsettings/{theirs['export_settings'].pk}/change/",
    ]


def _their_posts(theirs) -> list[tuple[str, dict | str]]:
    subscription = theirs["subscription"].pk
    base = f"/admin/subscriptions/subscription/{subscription}"
    return [
        (f"{base}/change/", {"name": "mine now"}),
        (f"{base}/delete/", {"post": "yes"}),
        (f"{base}/send-test/", {}),
        (f"{base}/recover/", {"since": "2026-01-01T00:00"}),
        (f"{base}/pause/", {}),
        (f"{base}/resume/", {}),
        (f"{base}/rotate-secret/", {}),
        (f"{base}/secret/", {}),
        (f"{base}/mapping/preview/", json.dumps({"script": "return event;"})),
        (f"{base}/mapping/check/", json.dumps({"script": "return event;"})),
        (f"{base}/mapping/save/", json.dumps({"script": "return 1;"})),
        (f"/admin/credentials/credential/{theirs['credential'].pk}/change/", {"name": "x"}),
        (f"/admin/credentials/credential/{theirs['credential'].pk}/delete/", {"post": "yes"}),
        (f"/admin/subscriptions/exportsettings/{theirs['export_settings'].pk}/change/", {"include_test_events": "on"}),
    ]


def test_every_page_and_view_of_another_environments_objects_answers_404(editor, viewer, theirs):
    for client in (editor, viewer):
        for page in _their_pages(theirs):
            assert client.get(page).status_code == 404, page
        for page, data in _their_posts(theirs):
            content_type = "application/json" if isinstance(data, str) else None
            kwargs = {"content_type": content_type} if content_type else {}
            assert client.post(page, data, **kwargs).status_code == 404, page
    subscription = Subscription.objects.get(pk=theirs["subscription"].pk)
    assert subscription.name == "Globex sink" and subscription.status == "active" and subscription.mapping is None
    assert not RequestLog.objects.filter(is_test=True).exists()
    assert not ExportSettings.objects.get(pk=theirs["export_settings"].pk).include_test_events


def test_guessed_and_malformed_ids_answer_404(editor):
    for page in [
        "/admin/subscriptions/subscription/00000000-0000-0000-0000-000000000000/change/",
        "/admin/subscriptions/subscription/not-a-uuid/change/",
        "/admin/subscriptions/subscription/not-a-uuid/send-test/",
        "/admin/credentials/credential/not-a-uuid/change/",
        "/admin/requestlog/requestlog/999999/change/",
        "/admin/requestlog/requestlog/abc/change/",
    ]:
        response = editor.get(page) if "send-test" not in page else editor.post(page)
        assert response.status_code == 404, page


def test_actions_on_another_environments_objects_answer_404(editor, ours, theirs):
    for selected in ([str(theirs["subscription"].pk)], [str(ours["subscription"].pk), str(theirs["subscription"].pk)]):
        response = editor.post("/admin/subscriptions/subscription/", {"action": "pause", "_selected_action": selected})
        assert response.status_code == 404
    response = editor.post("/admin/subscriptions/subscription/", {"action": "pause", "_selected_action": ["nope"]})
    assert response.status_code == 404
    assert set(Subscription.objects.values_list("status", flat=True)) == {"active"}
    response = editor.post(
        "/admin/subscriptions/subscription/", {"action": "pause", "_selected_action": [str(ours["subscription"].pk)]}
    )
    assert response.status_code == 302
    assert Subscription.objects.get(pk=ours["subscription"].pk).status == "paused"


def test_filtering_by_another_environments_subscription_shows_nothing(editor, theirs):
    page = editor.get(f"/admin/requestlog/requestlog/?subscription__id__exact={theirs['subscription'].pk}")
    assert page.status_code == 200 and "0 request logs" in page.content.decode()
    assert editor.get("/admin/requestlog/requestlog/?subscription__id__exact=junk").status_code in (200, 302)


def test_a_viewer_reads_but_cannot_add_change_send_or_run_actions(viewer, ours):
    subscription = ours["subscription"]
    base = f"/admin/subscriptions/subscription/{subscription.pk}"
    page = viewer.get(f"{base}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Acme sink" in text and 'id="send-test"' not in text and 'name="_save"' not in text
    assert viewer.get(f"{base}/mapping/").status_code == 200
    refused = viewer.get("/admin/subscriptions/subscription/add/")
    assert refused.status_code == 403 and "Your role does not allow this" in refused.content.decode()
    assert "Outflow Workbench" in refused.content.decode()
    assert viewer.get("/admin/credentials/credential/add/").status_code == 403
    for action in ["send-test/", "pause/", "rotate-secret/", "secret/", "recover/", "change/", "delete/"]:
        assert viewer.post(f"{base}/{action}", {"since": "2026-01-01T00:00", "post": "yes"}).status_code == 403, action
    for action in ["pause/", "rotate-secret/", "secret/"]:
        assert viewer.get(f"{base}/{action}").status_code == 403, action
    assert subscription.secret not in text and 'id="show-secret"' not in text
    save = viewer.post(f"{base}/mapping/save/", json.dumps({"script": "return 1;"}), content_type="application/json")
    assert save.status_code == 403
    listing = viewer.get("/admin/subscriptions/subscription/").content.decode()
    assert 'value="pause"' not in listing and 'value="delete_selected"' not in listing
    viewer.post("/admin/subscriptions/subscription/", {"action": "pause", "_selected_action": [str(subscription.pk)]})
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.mapping is None and not RequestLog.objects.exists()


def test_a_member_who_only_reads_one_environment_cannot_act_on_it_from_another_they_edit(environment, catalog):
    other, _ = environment_create(name="initech")
    client = member_client(environment, "mixed", role="viewer")
    member_client(other, "mixed", role="editor")
    read_only = subscription_create(environment=environment, name="Read only", event_types=["card-completed"], url=URL)
    selection = {"action": "pause", "_selected_action": [read_only.pk]}
    client.post("/admin/subscriptions/subscription/", selection)
    assert client.post(f"/admin/subscriptions/subscription/{read_only.pk}/pause/").status_code == 403
    assert client.get("/admin/subscriptions/subscription/add/").status_code == 403
    assert Subscription.objects.get(pk=read_only.pk).status == "active"
    switched = client.post("/admin/environment/", {"environment": str(other.pk), "next": "/admin/"})
    assert switched.status_code == 302
    add = client.get("/admin/subscriptions/subscription/add/").content.decode()
    form_choices = add[add.index('id="id_environment"') :].split("</select>")[0]
    assert "initech" in form_choices and "acme" not in form_choices
    assert client.post(f"/admin/subscriptions/subscription/{read_only.pk}/pause/").status_code == 404
    client.post("/admin/subscriptions/subscription/", selection)
    assert Subscription.objects.get(pk=read_only.pk).status == "active"


def test_the_header_names_the_current_environment_and_switches_among_the_members_own(environment, catalog):
    other, _ = environment_create(name="initech")
    stranger, _ = environment_create(name="zeta")
    client = member_client(environment, "mixed", role="viewer")
    member_client(other, "mixed", role="editor")
    mine = subscription_create(environment=environment, name="Acme only", event_types=["card-completed"], url=URL)
    page = client.get("/admin/subscriptions/subscription/").content.decode()
    assert "Outflow Workbench" in page and "View site" not in page and "Site administration" not in page
    assert f'<option value="{environment.pk}" selected>acme (viewer)</option>' in page
    assert f'<option value="{other.pk}">initech (editor)</option>' in page and "zeta" not in page
    assert "Acme only" in page
    switched = client.post(
        "/admin/environment/",
        {"environment": str(other.pk), "next": f"/admin/subscriptions/subscription/{mine.pk}/change/"},
    )
    assert switched["Location"] == "/admin/subscriptions/subscription/"
    page = client.get("/admin/subscriptions/subscription/").content.decode()
    assert f'<option value="{other.pk}" selected>initech (editor)</option>' in page and "Acme only" not in page
    assert client.get(f"/admin/subscriptions/subscription/{mine.pk}/change/").status_code == 404
    for hostile in ("https://evil.example/admin/x/y/", "//evil.example/", "/admin/../../etc/"):
        answer = client.post("/admin/environment/", {"environment": str(other.pk), "next": hostile})
        assert answer["Location"] in ("/admin/", "/admin/subscriptions/subscription/"), hostile
    assert client.post("/admin/environment/", {"environment": str(stranger.pk)}).status_code == 404
    assert client.post("/admin/environment/", {"environment": "junk"}).status_code == 404
    assert client.get("/admin/environment/").status_code == 405
    only_one = member_client(stranger, "solo", role="editor").get("/admin/").content.decode()
    assert '<strong id="environment-name">zeta</strong>' in only_one


def test_an_operator_sees_every_environment(admin_client, ours, theirs):
    text = admin_client.get("/admin/subscriptions/subscription/").content.decode()
    assert "Acme sink" in text and "Globex sink" in text
    assert admin_client.get(_their_pages(theirs)[0]).status_code == 200


def test_pause_resume_and_rotate_from_the_page(editor, ours):
    subscription = ours["subscription"]
    base = f"/admin/subscriptions/subscription/{subscription.pk}"
    confirmation = editor.get(f"{base}/pause/").content.decode()
    assert "Pause Acme sink?" in confirmation and 'id="confirm"' in confirmation
    assert Subscription.objects.get(pk=subscription.pk).status == "active"
    editor.post(f"{base}/pause/")
    subscription.refresh_from_db()
    assert subscription.status == "paused" and "paused in the Workbench by ed" in subscription.paused_reason
    page = editor.get(f"{base}/change/").content.decode()
    assert 'id="resume"' in page and "paused in the Workbench by ed" in page
    assert "paused</strong>" in editor.get("/admin/subscriptions/subscription/").content.decode()
    editor.post(f"{base}/resume/")
    subscription.refresh_from_db()
    assert subscription.status == "active"

    old = subscription.secret
    asked = editor.get(f"{base}/rotate-secret/").content.decode()
    assert "Rotate the signing secret of Acme sink?" in asked and old not in asked
    assert Subscription.objects.get(pk=subscription.pk).secret == old
    rotated = editor.post(f"{base}/rotate-secret/")
    subscription.refresh_from_db()
    assert subscription.secret != old and subscription.previous_secret == old
    assert subscription.secret in rotated.content.decode() and "no-store" in rotated["Cache-Control"]
    assert subscription.secret not in editor.get(f"{base}/change/").content.decode()


def test_show_secret_asks_first_then_shows_it_uncached(editor, ours):
    subscription = ours["subscription"]
    base = f"/admin/subscriptions/subscription/{subscription.pk}"
    change = editor.get(f"{base}/change/").content.decode()
    assert 'id="show-secret"' in change and subscription.secret not in change
    asked = editor.get(f"{base}/secret/")
    assert "Show the signing secret of Acme sink?" in asked.content.decode()
    assert subscription.secret not in asked.content.decode()
    shown = editor.post(f"{base}/secret/")
    assert f'<code id="signing-secret">{subscription.secret}</code>' in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert Subscription.objects.get(pk=subscription.pk).secret == subscription.secret


def test_recover_from_the_page_sends_failed_deliveries_again(editor, ours, environment):
    subscription = ours["subscription"]
    events_ingest(environment=environment, raw_events=[event()])
    Delivery.objects.update(status=Delivery.Status.FAILED, attempts=24)
    base = f"/admin/subscriptions/subscription/{subscription.pk}"
    response = editor.post(f"{base}/recover/", {"since": "not a time"}, follow=True)
    assert "Nothing recovered: since: Enter a valid date/time." in response.content.decode()
    response = editor.post(f"{base}/recover/", {"since": "2020-01-01T00:00"}, follow=True)
    assert "Recovered 1 failed or skipped deliveries" in response.content.decode()
    # The work goes on behind the answer, as the worker's task does it.
    recovery_continue(recovery_id=Recovery.objects.get().pk)
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    subscription_pause(subscription=subscription, reason="by hand")
    response = editor.post(f"{base}/recover/", {"since": "2020-01-01T00:00"}, follow=True)
    assert "Nothing recovered: resume the subscription before recovering" in response.content.decode()


def test_export_settings_change_through_their_page(editor, viewer, environment):
    settings = ExportSettings.objects.get(environment=environment)
    page = f"/admin/subscriptions/exportsettings/{settings.pk}/change/"
    text = editor.get(page).content.decode()
    for label in ["Test card events", "Request payload", "Card response data"]:
        assert f">{label}</label>" in text
    assert editor.post(page, {"include_request_payload": "on"}).status_code == 302
    settings.refresh_from_db()
    assert settings.include_request_payload and not settings.include_test_events
    assert viewer.post(page, {"include_test_events": "on"}).status_code == 403
    assert editor.get("/admin/subscriptions/exportsettings/add/").status_code == 403


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_a_member_cannot_filter_the_list_on_fields_the_pages_mask(viewer, environment):
    subscription_create(
        environment=environment,
        name="With a token",
        event_types=["card-completed"],
        url="http://127.0.0.1:9/hook",
        headers={"Authorization": "Bearer q7Z"},
    )
    listing = "/admin/subscriptions/subscription/"

    for lookup in ("headers__Authorization__startswith=Bearer%20q", "headers__icontains=q7Z", "secret__startswith=w"):
        assert viewer.get(f"{listing}?{lookup}").status_code == 400
    assert viewer.get(f"{listing}?status__exact=active").status_code == 200


def test_an_editor_deletes_a_subscription_that_has_delivered(editor, ours, environment):
    subscription = ours["subscription"]
    events_ingest(environment=environment, raw_events=[event()])
    page = f"/admin/subscriptions/subscription/{subscription.pk}/delete/"

    assert "permission" not in editor.get(page).content.decode().lower()
    assert editor.post(page, {"post": "yes"}).status_code == 302
    assert not Subscription.objects.filter(pk=subscription.pk).exists()
    assert not Delivery.objects.exists()


def test_create_member_refuses_an_operator_or_a_user_with_permissions_of_their_own(environment):
    from django.contrib.auth.models import Permission

    get_user_model().objects.create_superuser("root", password="x")
    holder = get_user_model().objects.create_user("holder", password="x")
    holder.user_permissions.add(Permission.objects.get(codename="view_environment"))

    for username in ("root", "holder"):
        with pytest.raises(CommandError, match="holds admin permissions"):
            call_command("create_member", str(environment.pk), username, "--role", "viewer", stdout=StringIO())
    assert not Member.objects.exists()


def test_the_page_tools_leave_a_history_without_the_secret(editor, ours):
    from django.contrib.admin.models import LogEntry

    subscription = ours["subscription"]
    base = f"/admin/subscriptions/subscription/{subscription.pk}"
    editor.post(f"{base}/pause/")
    editor.post(f"{base}/resume/")
    rotated = editor.post(f"{base}/rotate-secret/")
    subscription.refresh_from_db()

    messages = list(LogEntry.objects.order_by("action_time").values_list("change_message", flat=True))
    assert messages == ["Paused.", "Resumed.", "Rotated the signing secret."]
    assert rotated.status_code == 200 and subscription.secret not in "".join(messages)


def test_send_test_that_reaches_nobody_shows_the_failure_on_its_page(editor, ours):
    base = f"/admin/subscriptions/subscription/{ours['subscription'].pk}"
    form = editor.get(f"{base}/send-test/").content.decode()
    assert '<option value="card-completed"' in form and "send-test-result" not in form
    answer = editor.post(f"{base}/send-test/", {"event_type": "card-completed"}).content.decode()
    assert 'class="send-test-result send-test-failed"' in answer and "<h2>Failed: " in answer
    entry = RequestLog.objects.get(is_test=True)
    assert entry.error and entry.error in answer
    refused = editor.post(f"{base}/send-test/", {"event_type": "card-exploded"}).content.decode()
    assert "Select a valid choice" in refused and RequestLog.objects.count() == 1


def test_a_viewer_reads_human_labels_and_one_date_format_with_its_time_zone(viewer, ours):
    page = viewer.get(f"/admin/subscriptions/subscription/{ours['subscription'].pk}/change/").content.decode()
    for label in ("URL", "Request method", "Auto-disable", "Max retries", "Event types"):
        assert f"<label>{label}:</label>" in page, label
    assert "<label>Url:</label>" not in page and "Auto disable" not in page
    created = ours["subscription"].created_at
    assert f"{created:%Y-%m-%d %H:%M:%S} UTC" in page


def test_the_palette_offers_the_members_pages_and_current_objects_only(editor, viewer, ours, theirs):
    entries = editor.get("/admin/environment/palette/").json()["entries"]
    labels = {entry["label"]: entry for entry in entries}
    assert labels["Acme sink"]["url"] == f"/admin/subscriptions/subscription/{ours['subscription'].pk}/change/"
    assert labels["New subscription"]["url"] == "/admin/subscriptions/subscription/add/"
    assert "webhook" in labels["Credentials"]["words"] and "Request logs" in labels
    assert "Globex sink" not in labels and theirs["credential"].name not in labels
    read = {entry["label"] for entry in viewer.get("/admin/environment/palette/").json()["entries"]}
    assert "Acme sink" in read and "New subscription" not in read and "New credential" not in read
    assert Client().get("/admin/environment/palette/").status_code == 302


def test_the_delete_page_names_the_subscription_without_orm_names(editor, ours, environment):
    events_ingest(environment=environment, raw_events=[event()])
    page = editor.get(f"/admin/subscriptions/subscription/{ours['subscription'].pk}/delete/").content.decode()
    assert "<li>Acme sink</li>" in page and "Deliveries: 1" in page
    assert not re.search(r"object \(\d", page) and "relationship" not in page.lower()
    assert "event_types" not in page.lower()
