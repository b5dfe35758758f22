"""Owners manage their environment's members in the Workbench: add by username (a new user's password shown once),
change a role, remove; the last owner stays one; editors, viewers and other environments' members reach none of it."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client

from audit.models import AuditEntry
from tenancy.models import Member
from tenancy.services import (
    environment_create,
    member_add,
    member_remove,
    member_role_change,
    member_set,
)
from tests.factories import member_client

MEMBERS = "/admin/tenancy/member/"


def _member(environment, username: str) -> Member:
    return Member.objects.get(environment=environment, user__username=username)


def test_member_add_gives_a_new_user_a_password_and_refuses_a_member_twice(environment):
    member, password = member_add(environment=environment, username="nia", role="viewer")
    assert password and member.user.check_password(password) and member.role == "viewer"
    with pytest.raises(ValidationError) as refused:
        member_add(environment=environment, username="nia", role="editor")
    assert "already a member of acme" in refused.value.message_dict["username"][0]
    assert _member(environment, "nia").role == "viewer"


def test_member_add_of_a_user_of_another_environment_keeps_their_password(environment, other):
    member, password = member_add(environment=environment, username="gus", role="editor")
    assert password is None and member.environment == environment
    assert Member.objects.filter(user__username="gus").count() == 2


def test_the_last_owner_can_be_neither_demoted_nor_removed_unless_by_an_operator(environment):
    only, _ = member_set(environment=environment, username="olive", role="owner")
    with pytest.raises(ValidationError) as refused:
        member_role_change(member=only, role="editor")
    assert refused.value.message_dict["role"] == ["olive is the last owner of acme: make another member an owner first"]
    with pytest.raises(ValidationError):
        member_remove(member=only)
    assert _member(environment, "olive").role == "owner"

    second, _ = member_set(environment=environment, username="oscar", role="owner")
    assert member_role_change(member=only, role="editor").role == "editor"
    with pytest.raises(ValidationError):
        member_remove(member=second)
    member_remove(member=second, keep_an_owner=False)
    assert not Member.objects.filter(environment=environment, role="owner").exists()


def test_a_stale_copy_of_an_owner_is_judged_as_the_member_is_now(environment):
    olive, _ = member_set(environment=environment, username="olive", role="owner")
    oscar, _ = member_set(environment=environment, username="oscar", role="owner")
    member_role_change(member=oscar, role="viewer")
    # `oscar` still says owner; olive is the last one all the same.
    with pytest.raises(ValidationError):
        member_remove(member=olive)
    member_remove(member=oscar)
    assert list(Member.objects.filter(environment=environment).values_list("user__username", flat=True)) == ["olive"]


def test_an_owner_sees_adds_changes_and_removes_the_environment_s_members(environment, other, owner):
    member_set(environment=environment, username="ed", role="editor")
    listing = owner.get(MEMBERS).content.decode()
    assert "olive" in listing and "ed" in listing and "gail" not in listing and "gus" not in listing
    assert "<th" in listing and "Username" in listing and "Role" in listing

    added = owner.post(
        f"{MEMBERS}add/", {"environment": str(environment.pk), "username": "nia", "role": "viewer", "_save": "Save"}
    )
    assert added.status_code == 200 and added.headers["cache-control"].startswith("max-age=0")
    password = added.context["password"]
    assert password in added.content.decode() and "shown only this once" in added.content.decode()
    assert Client().login(username="nia", password=password)
    nia = _member(environment, "nia")
    assert nia.role == "viewer" and password not in owner.get(f"{MEMBERS}{nia.pk}/change/").content.decode()

    # Someone who works in another environment olive owns keeps their sign-in; someone of an environment she does not
    # own is refused (its maker may hold the password).
    initech, _ = environment_create(name="initech")
    member_set(environment=initech, username="olive", role="owner")
    member_set(environment=initech, username="ivy", role="editor")
    existing = owner.post(
        f"{MEMBERS}add/", {"environment": str(environment.pk), "username": "ivy", "role": "editor", "_save": "Save"}
    )
    assert existing.context["password"] is None and "keep their own password" in existing.content.decode()
    outsider = owner.post(
        f"{MEMBERS}add/", {"environment": str(environment.pk), "username": "gus", "role": "editor", "_save": "Save"}
    )
    assert "outside your environments" in outsider.context["adminform"].form.errors["username"][0]

    twice = owner.post(
        f"{MEMBERS}add/", {"environment": str(environment.pk), "username": "nia", "role": "owner", "_save": "Save"}
    )
    assert "already a member of acme" in twice.context["adminform"].form.errors["username"][0]

    changed = owner.post(f"{MEMBERS}{nia.pk}/change/", {"role": "editor", "_save": "Save"})
    assert changed.status_code == 302 and _member(environment, "nia").role == "editor"

    assert owner.post(f"{MEMBERS}{nia.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Member.objects.filter(environment=environment, user__username="nia").exists()
    assert get_user_model().objects.filter(username="nia").exists()

    actions = list(
        AuditEntry.objects.filter(environment=environment, object_type="member", actor_name="olive")
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["member.added", "member.added", "member.updated", "member.removed"]


def test_the_last_owner_is_refused_on_the_page_with_the_reason(environment, owner):
    olive = _member(environment, "olive")
    refused = owner.post(f"{MEMBERS}{olive.pk}/change/", {"role": "viewer", "_save": "Save"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["role"] == [
        "olive is the last owner of acme: make another member an owner first"
    ]
    confirmation = owner.get(f"{MEMBERS}{olive.pk}/delete/", follow=True)
    page = confirmation.content.decode()
    assert confirmation.redirect_chain[-1][0] == f"{MEMBERS}{olive.pk}/change/"
    assert "Not removed: olive is the last owner of acme" in page and "Yes, I’m sure" not in page
    assert owner.post(f"{MEMBERS}{olive.pk}/delete/", {"post": "yes"}).status_code == 302
    assert _member(environment, "olive").role == "owner"


def test_an_owner_who_steps_down_goes_to_the_workbench_home(environment, owner):
    member_set(environment=environment, username="oscar", role="owner")
    olive = _member(environment, "olive")
    response = owner.post(f"{MEMBERS}{olive.pk}/change/", {"role": "editor", "_save": "Save"})
    assert response.status_code == 302 and response.headers["location"] == "/admin/"
    assert owner.get(MEMBERS).status_code == 403


def test_editors_and_viewers_have_no_members_page_nor_a_link_to_it(environment):
    member = member_set(environment=environment, username="nia", role="viewer")[0]
    for role in ("editor", "viewer"):
        client = member_client(environment, f"a-{role}", role=role)
        assert MEMBERS not in client.get("/admin/").content.decode()
        labels = {entry["label"] for entry in client.get("/admin/environment/palette/").json()["entries"]}
        assert "Members" not in labels and "New member" not in labels
        assert client.get(MEMBERS).status_code == 403
        assert client.get(f"{MEMBERS}add/").status_code == 403
        assert client.post(f"{MEMBERS}{member.pk}/change/", {"role": "owner"}).status_code in (403, 404)
        assert client.post(f"{MEMBERS}{member.pk}/delete/", {"post": "yes"}).status_code in (403, 404)
    assert _member(environment, "nia").role == "viewer"


def test_an_owner_reaches_only_their_own_environment_s_members(environment, other, owner):
    gus = _member(other, "gus")
    for url in (f"{MEMBERS}{gus.pk}/change/", f"{MEMBERS}{gus.pk}/delete/", f"{MEMBERS}{gus.pk}/history/"):
        assert owner.get(url).status_code == 404
    assert owner.post(f"{MEMBERS}{gus.pk}/change/", {"role": "owner", "_save": "Save"}).status_code == 404
    assert owner.post(f"{MEMBERS}{gus.pk}/delete/", {"post": "yes"}).status_code == 404
    refused = owner.post(
        f"{MEMBERS}add/", {"environment": str(other.pk), "username": "nia", "role": "owner", "_save": "Save"}
    )
    assert refused.status_code == 200 and "environment" in refused.context["adminform"].form.errors
    assert _member(other, "gus").role == "editor" and not Member.objects.filter(user__username="nia").exists()
    index = owner.get("/admin/").content.decode()
    assert MEMBERS in index
    labels = {entry["label"] for entry in owner.get("/admin/environment/palette/").json()["entries"]}
    assert {"Members", "New member"} <= labels


def test_an_operator_sees_every_member_and_may_remove_a_last_owner(environment, other):
    operator = Client()
    operator.force_login(get_user_model().objects.create_superuser("root", password="x"))
    listing = operator.get(MEMBERS).content.decode()
    assert "gail" in listing and "gus" in listing
    gail = _member(other, "gail")
    assert operator.post(f"{MEMBERS}{gail.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Member.objects.filter(pk=gail.pk).exists()


def test_an_operator_cannot_be_added_as_a_member(environment, owner):
    get_user_model().objects.create_superuser("root", password="x")
    refused = owner.post(
        f"{MEMBERS}add/", {"environment": str(environment.pk), "username": "root", "role": "owner", "_save": "Save"}
    )
    assert "operator" in refused.context["adminform"].form.errors["username"][0]
    assert not Member.objects.filter(user__username="root").exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(catalog):
    environment, _ = environment_create(name="acme")
    olive, _ = member_set(environment=environment, username="olive", role="owner")
    oscar, _ = member_set(environment=environment, username="oscar", role="owner")
    outcome = {}

    def oscar_demotes_olive():
        try:
            member_role_change(member=olive, role="editor")
            outcome["oscar"] = "done"
        except ValidationError as refusal:
            outcome["oscar"] = refusal.message_dict["role"][0]
        finally:
            connection.close()

    with transaction.atomic():
        member_role_change(member=oscar, role="editor")
        other = threading.Thread(target=oscar_demotes_olive)
        other.start()
        # Oscar's change waits for this one's transaction, then counts the owners as they are after it.
        other.join(timeout=0.5)
        assert other.is_alive()
    other.join(timeout=10)
    assert outcome == {"oscar": "olive is the last owner of acme: make another member an owner first"}
    assert list(
        Member.objects.filter(environment=environment, role="owner").values_list("user__username", flat=True)
    ) == ["olive"]
