"""A hostile review of the owners' members pages: what an owner of one environment can reach in another."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.models import Member
from tenancy.services import member_set
from tests.factories import member_client

MEMBERS = "/admin/tenancy/member/"
PALETTE = "/admin/environment/palette/"


def _add(client, environment, username: str, role: str = "editor", **extra):
    data = {"environment": str(environment.pk), "username": username, "role": role, "_save": "Save", **extra}
    return client.post(f"{MEMBERS}add/", data)


def test_a_password_an_owner_was_shown_never_opens_another_environment(environment, other, owner):
    """An owner of acme makes the user of a name globex is expected to use (jane): the password is theirs. When
    globex's owner then adds jane, the sign-in acme's owner holds must not open globex."""
    squatted = _add(owner, environment, "jane", role="viewer")
    password = squatted.context["password"]
    assert password

    globex_owner = member_client(other, "gail", role="owner")
    refused = _add(globex_owner, other, "jane", role="editor")
    assert "outside your environments" in str(refused.context["adminform"].form.errors["username"])

    intruder = Client()
    assert intruder.login(username="jane", password=password)
    switched = intruder.post("/admin/environment/", {"environment": str(other.pk), "next": "/admin/"})
    assert switched.status_code == 404, "acme's owner signs in to globex as its editor jane"
    assert "globex" not in intruder.get("/admin/").content.decode()


def test_an_owner_adds_no_one_to_another_environment_and_no_operator_fields(environment, other, owner):
    refused = _add(owner, other, "nia", is_superuser="on", is_staff="on", user="1")
    assert refused.status_code == 200 and "environment" in refused.context["adminform"].form.errors
    assert not get_user_model().objects.filter(username="nia").exists()

    _add(owner, environment, "nia", role="owner", is_superuser="on", user="1")
    nia = get_user_model().objects.get(username="nia")
    assert not nia.is_superuser and not nia.user_permissions.exists() and not nia.groups.exists()
    assert list(Member.objects.filter(user=nia).values_list("environment__name", flat=True)) == ["acme"]


def test_an_owner_reaches_none_of_another_environment_s_members(environment, other, owner):
    gail = Member.objects.get(environment=other, user__username="gail")
    for path in ("change/", "delete/", "history/"):
        assert owner.get(f"{MEMBERS}{gail.pk}/{path}").status_code in (302, 404), path
    assert owner.post(f"{MEMBERS}{gail.pk}/change/", {"role": "viewer"}).status_code == 404
    assert owner.post(f"{MEMBERS}{gail.pk}/delete/", {"post": "yes"}).status_code == 404
    assert Member.objects.get(pk=gail.pk).role == "owner"
    assert owner.get(f"{MEMBERS}?environment__id__exact={other.pk}").status_code == 400
    assert owner.get(f"{MEMBERS}?q=gail").context["cl"].result_count == 0


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_have_no_members_page(environment, role):
    client = member_client(environment, "ed", role=role)
    olive, _ = member_set(environment=environment, username="olive", role="owner")
    assert client.get(MEMBERS).status_code == 403
    assert client.get(f"{MEMBERS}add/").status_code == 403
    assert _add(client, environment, "nia").status_code == 403
    assert client.post(f"{MEMBERS}{olive.pk}/change/", {"role": "viewer"}).status_code in (403, 404)
    assert client.post(f"{MEMBERS}{olive.pk}/delete/", {"post": "yes"}).status_code in (403, 404)
    assert Member.objects.get(pk=olive.pk).role == "owner"
    assert not get_user_model().objects.filter(username="nia").exists()
    palette = client.get(PALETTE).json()["entries"]
    assert not [entry for entry in palette if MEMBERS in entry["url"]]


def test_members_pages_need_a_csrf_token(environment):
    olive, _ = member_set(environment=environment, username="olive", role="owner")
    client = Client(enforce_csrf_checks=True)
    client.force_login(olive.user)
    assert _add(client, environment, "nia").status_code == 403
    assert not get_user_model().objects.filter(username="nia").exists()


def test_an_owner_s_role_form_changes_the_role_only(environment, other, owner):
    nia, _ = member_set(environment=environment, username="nia", role="viewer")
    gail = Member.objects.get(environment=other, user__username="gail")
    data = {"role": "editor", "environment": str(other.pk), "user": str(gail.user_id), "_save": "Save"}
    assert owner.post(f"{MEMBERS}{nia.pk}/change/", data).status_code == 302
    nia.refresh_from_db()
    assert (nia.role, nia.environment_id, nia.user.username) == ("editor", environment.pk, "nia")
    assert Member.objects.get(pk=gail.pk).role == "owner"


def test_an_operator_adds_changes_and_removes_members_of_any_environment(environment, other):
    operator = Client()
    operator.force_login(get_user_model().objects.create_superuser("root", password="x"))
    added = _add(operator, other, "nia", role="owner")
    assert added.status_code == 200 and added.context["password"]
    gail = Member.objects.get(environment=other, user__username="gail")
    nia = Member.objects.get(environment=other, user__username="nia")
    assert operator.post(f"{MEMBERS}{gail.pk}/change/", {"role": "viewer", "_save": "Save"}).status_code == 302
    assert operator.post(f"{MEMBERS}{nia.pk}/change/", {"role": "viewer", "_save": "Save"}).status_code == 302
    assert not Member.objects.filter(environment=other, role="owner").exists()
    assert operator.post(f"{MEMBERS}{nia.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Member.objects.filter(pk=nia.pk).exists()


def test_a_deactivated_owner_does_not_count_as_the_environment_s_other_owner(environment, owner):
    oscar, _ = member_set(environment=environment, username="oscar", role="owner")
    oscar.user.is_active = False
    oscar.user.save(update_fields=["is_active"])
    olive = Member.objects.get(environment=environment, user__username="olive")
    owner.post(f"{MEMBERS}{olive.pk}/change/", {"role": "viewer", "_save": "Save"})
    assert Member.objects.filter(environment=environment, role="owner", user__is_active=True).exists(), (
        "acme is left with no owner who can sign in"
    )
