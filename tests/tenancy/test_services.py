"""Environments, their keys and members, as the services make them."""

from subscriptions.models import ExportSettings
from tenancy.models import Member
from tenancy.selectors import api_key_of
from tenancy.services import api_key_create, environment_create, member_set


def test_a_new_environment_has_a_key_that_names_it_and_its_export_settings(db):
    environment, key = environment_create(name="acme")
    assert key.startswith("of_") and api_key_of(key=key).environment == environment
    assert ExportSettings.objects.get(environment=environment).include_test_events is False


def test_each_key_names_its_environment_and_an_unknown_one_none(db):
    environment, _ = environment_create(name="acme")
    other, _ = environment_create(name="other")
    assert api_key_of(key=api_key_create(environment=other)).environment == other
    assert api_key_of(key=api_key_create(environment=environment)).environment == environment
    assert api_key_of(key="of_unknown") is None


def test_a_member_is_staff_without_permissions_and_keeps_one_row_per_environment(db):
    environment, _ = environment_create(name="acme")
    member, password = member_set(environment=environment, username="ed", role=Member.Role.VIEWER)
    assert password and member.user.is_staff and not member.user.get_all_permissions()
    again, no_password = member_set(environment=environment, username="ed", role=Member.Role.EDITOR)
    assert (again.pk, again.role, no_password) == (member.pk, Member.Role.EDITOR, None)
