"""Each kind of configuration writes its audit entry from its service, in the change's transaction, naming the actor
in context; secrets and mapping sources never appear."""

import hashlib
import json

import pytest
from django.db import DatabaseError, transaction

from audit.changes import MASK
from audit.models import AuditEntry
from credentials.services import credential_create, credential_delete, credential_update
from notifications.services import notification_secret_rotate, notification_settings_update
from subscriptions.models import Subscription
from subscriptions.services import (
    export_settings_update,
    subscription_create,
    subscription_delete,
    subscription_pause,
    subscription_pause_by_id,
    subscription_resume,
    subscription_secret_rotate,
    subscription_update,
)
from tenancy.actors import MEMBER, SYSTEM, Actor, ActorUnknown, _current, acting_as
from tenancy.models import ApiKey
from tenancy.services import api_key_create, api_key_delete, member_remove, member_set
from tests import secrets

URL = "http://127.0.0.1:9/hook"
MAPPING = "return {kind: event.eventName, secret: 'not in the log'};"
ALICE = Actor(type=MEMBER, id="7", name="alice")


def _entries(environment) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(environment=environment).order_by("id"))


def _subscription(environment, **fields) -> Subscription:
    return subscription_create(environment=environment, name="sink", event_types=["card-completed"], url=URL, **fields)


def test_a_subscription_s_life_is_written_with_its_actor_and_changes(environment):
    with acting_as(ALICE):
        subscription = _subscription(environment, headers={"X-Api-Key": secrets.HEADER_SECRET, "X-Team": "a"})
        subscription_id, secret = str(subscription.pk), subscription.secret
        subscription_update(subscription=subscription, name="renamed", event_types=["card-completed", "card-displayed"])
        subscription_pause(subscription=subscription, reason="by hand")
        subscription_resume(subscription=subscription)
        subscription_secret_rotate(subscription=subscription)
        subscription_delete(subscription=subscription)
    entries = _entries(environment)[-6:]
    assert [entry.action for entry in entries] == [
        "subscription.created",
        "subscription.updated",
        "subscription.paused",
        "subscription.resumed",
        "subscription.secret_rotated",
        "subscription.deleted",
    ]
    assert {(entry.actor_type, entry.actor_id, entry.actor_name) for entry in entries} == {(MEMBER, "7", "alice")}
    assert {entry.object_id for entry in entries} == {subscription_id}
    created, updated, paused, _, rotated, deleted = entries
    assert created.changes["headers"] == [None, {"X-Api-Key": MASK, "X-Team": "a"}]
    assert created.changes["url"] == [None, URL] and created.changes["max_retries"] == [None, 23]
    assert updated.changes == {
        "event_types": [["card-completed"], ["card-completed", "card-displayed"]],
        "name": ["sink", "renamed"],
    }
    assert paused.changes == {"paused_reason": ["", "by hand"], "status": ["active", "paused"]}
    assert rotated.changes == {"secret": [MASK, MASK]}
    assert deleted.changes["name"] == ["renamed", None]
    assert secrets.HEADER_SECRET not in json.dumps([entry.changes for entry in entries])
    assert secret not in json.dumps([entry.changes for entry in entries])
    assert subscription.secret not in json.dumps([entry.changes for entry in entries])


def test_a_mapping_shows_as_its_size_and_hash_never_its_source(environment):
    subscription = _subscription(environment)
    subscription_update(subscription=subscription, mapping=MAPPING)
    subscription_update(subscription=subscription, mapping=None)
    added, removed = _entries(environment)[-2:]
    shown = {"size": len(MAPPING.encode()), "sha256": hashlib.sha256(MAPPING.encode()).hexdigest()}
    assert added.changes == {"mapping": [None, shown]} and removed.changes == {"mapping": [shown, None]}
    assert "not in the log" not in json.dumps([added.changes, removed.changes])


def test_an_update_that_changes_nothing_writes_nothing(environment):
    subscription = _subscription(environment)
    before = AuditEntry.objects.count()
    subscription_update(subscription=subscription, name="sink")
    export_settings_update(environment=environment, include_test_events=False)
    assert AuditEntry.objects.count() == before


def test_a_credential_s_secrets_are_masked_and_their_change_still_shows(environment):
    values = {"username": "u", "password": secrets.PASSWORD}
    credential = credential_create(environment=environment, name="basic", type="basic_auth", values=values)
    credential_update(credential=credential, values={"password": secrets.PASSWORD + "-new"})
    credential_update(credential=credential, values={"username": "v"})
    credential_delete(credential=credential)
    created, password, username, deleted = _entries(environment)[-4:]
    assert created.action == "credential.created" and created.changes == {
        "name": [None, "basic"],
        "password": [None, MASK],
        "type": [None, "basic_auth"],
        "username": [None, "u"],
    }
    assert password.changes == {"password": [MASK, MASK]}
    assert username.changes == {"username": ["u", "v"]}
    assert deleted.action == "credential.deleted" and deleted.changes["password"] == [MASK, None]
    assert secrets.PASSWORD not in json.dumps([entry.changes for entry in _entries(environment)])


def test_export_settings_and_notifications_are_written(environment):
    export_settings_update(environment=environment, include_test_events=True)
    notification_settings_update(
        environment=environment, webhook_url="http://127.0.0.1:9/ops?token=t0ken", emails=["ops@example.com"]
    )
    settings = notification_secret_rotate(environment=environment)
    export, notifications, rotated = _entries(environment)[-3:]
    assert (export.action, export.changes) == ("export_settings.updated", {"include_test_events": [False, True]})
    assert notifications.action == "notifications.updated"
    assert notifications.changes == {
        "emails": [[], ["ops@example.com"]],
        "webhook_url": [None, f"http://127.0.0.1:9/ops?token={MASK}"],
    }
    assert (rotated.action, rotated.changes) == ("notifications.secret_rotated", {"secret": [MASK, MASK]})
    assert settings.secret not in json.dumps(rotated.changes)


def test_api_keys_and_members_are_written_through_tenancy_s_signal(environment):
    key = api_key_create(environment=environment, scope=ApiKey.Scope.INGEST)
    api_key = ApiKey.objects.get(environment=environment, scope=ApiKey.Scope.INGEST)
    member, _ = member_set(environment=environment, username="olive", role="viewer")
    member_set(environment=environment, username="olive", role="owner")
    member_set(environment=environment, username="olive", role="owner")
    member_remove(member=member, keep_an_owner=False)
    api_key_delete(api_key=api_key)
    entries = _entries(environment)[-5:]
    assert [(entry.action, entry.changes) for entry in entries] == [
        ("api_key.created", {"prefix": [None, api_key.prefix], "scope": [None, "ingest"]}),
        ("member.added", {"username": [None, "olive"], "role": [None, "viewer"]}),
        ("member.updated", {"role": ["viewer", "owner"]}),
        ("member.removed", {"username": ["olive", None], "role": ["owner", None]}),
        ("api_key.deleted", {"prefix": [api_key.prefix, None], "scope": ["ingest", None]}),
    ]
    assert key not in json.dumps([entry.changes for entry in entries])
    assert entries[0].object_name == str(api_key) and entries[1].object_name == "olive"


def test_the_auto_pause_is_the_system_s_even_where_no_actor_is_set(environment):
    subscription = _subscription(environment)
    token = _current.set(None)
    try:
        assert subscription_pause_by_id(subscription_id=subscription.pk, reason="retries exhausted")
        assert not subscription_pause_by_id(subscription_id=subscription.pk, reason="again")
    finally:
        _current.reset(token)
    [paused] = AuditEntry.objects.filter(action="subscription.paused")
    assert (paused.actor_type, paused.actor_name) == (SYSTEM.type, SYSTEM.name)
    assert paused.changes == {"paused_reason": ["", "retries exhausted"], "status": ["active", "paused"]}
    assert (paused.object_id, paused.object_name) == (str(subscription.pk), "sink")


def test_a_change_with_no_actor_is_refused_whole(environment):
    subscription = _subscription(environment)
    token = _current.set(None)
    try:
        with pytest.raises(ActorUnknown):
            subscription_update(subscription=subscription, name="nobody did this")
        with pytest.raises(ActorUnknown):
            api_key_create(environment=environment)
    finally:
        _current.reset(token)
    subscription.refresh_from_db()
    assert subscription.name == "sink" and ApiKey.objects.filter(environment=environment).count() == 1


def test_entries_cannot_be_changed_or_deleted_in_the_database(environment):
    export_settings_update(environment=environment, include_test_events=True)
    entry = _entries(environment)[-1]
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(actor_name="someone else"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="cannot be changed or deleted"), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert entry.actor_name == "the test suite"
