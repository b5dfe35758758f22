"""Moving environments, API keys and members into the tenancy app keeps a running database's rows, foreign keys and
permissions: migrated back to before the move, filled, and migrated forward again. (Every other test runs on a
database migrated from empty, the fresh path.)"""

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from credentials.models import Credential
from delivery.models import Event
from notifications.models import NotificationSettings
from subscriptions.models import ExportSettings, Subscription
from tenancy.models import ApiKey, Environment, Member
from tenancy.selectors import api_key_of

KEY = "of_before-the-move"


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


@pytest.fixture
def before_the_move(transactional_db):
    """The models of the database as it was before tenancy 0001; migrated forward again, whatever the test did."""
    executor = _migrate([("tenancy", None)])
    yield executor.loader.project_state(list(executor.loader.applied_migrations)).apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


def _rows_of_before(apps) -> dict:
    """One row of every model that names an environment, made with the models of before the move."""
    environment = apps.get_model("subscriptions", "Environment").objects.create(name="acme")
    apps.get_model("subscriptions", "ApiKey").objects.create(
        environment=environment, prefix=KEY[:10], key_hash=hashlib.sha256(KEY.encode()).hexdigest()
    )
    user = apps.get_model("auth", "User").objects.create(username="operator", is_staff=True)
    member = apps.get_model("subscriptions", "Member").objects.create(user=user, environment=environment, role="viewer")
    content_type = apps.get_model("contenttypes", "ContentType").objects.get(
        app_label="subscriptions", model="environment"
    )
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type=content_type, codename="view_environment"
    )
    group = apps.get_model("auth", "Group").objects.create(name="environment readers")
    group.permissions.add(permission)
    user.groups.add(group)
    apps.get_model("subscriptions", "ExportSettings").objects.create(environment=environment, include_test_events=True)
    subscription = apps.get_model("subscriptions", "Subscription").objects.create(
        environment=environment, name="sink", url="http://127.0.0.1:9/hook", secret="whsec_kept"
    )
    credential = apps.get_model("credentials", "Credential").objects.create(
        environment=environment, name="basic", type="basic_auth", settings={"username": "u"}, secrets={"password": "p"}
    )
    event = apps.get_model("delivery", "Event").objects.create(
        environment=environment, event_id="evt_1", name="card-completed", payload={}
    )
    apps.get_model("notifications", "NotificationSettings").objects.create(environment=environment, secret="kept")
    return {
        "environment": environment.pk,
        "member": member.pk,
        "user": user.pk,
        "content_type": content_type.pk,
        "subscription": subscription.pk,
        "credential": credential.pk,
        "event": event.pk,
    }


def test_rows_foreign_keys_and_permissions_survive_the_move(before_the_move):
    before = _rows_of_before(before_the_move)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    environment = Environment.objects.get(pk=before["environment"])
    assert environment.name == "acme"
    assert api_key_of(key=KEY).environment == environment
    member = Member.objects.select_related("user", "environment").get(pk=before["member"])
    assert (member.user.username, member.environment, member.role) == ("operator", environment, "viewer")
    subscription = Subscription.objects.select_related("environment").get(pk=before["subscription"])
    assert subscription.environment == environment and subscription.secret == "whsec_kept"
    assert ExportSettings.objects.get(environment=environment).include_test_events
    assert Credential.objects.get(pk=before["credential"]).environment == environment
    assert Event.objects.get(pk=before["event"]).environment == environment
    assert NotificationSettings.objects.get(environment=environment).secret == "kept"
    assert {environment.subscriptions.count(), environment.api_keys.count(), environment.members.count()} == {1}

    content_type = ContentType.objects.get_for_model(Environment)
    assert (content_type.pk, content_type.app_label) == (before["content_type"], "tenancy")
    assert not ContentType.objects.filter(app_label="subscriptions", model__in=["environment", "apikey", "member"])
    assert get_user_model().objects.get(pk=before["user"]).has_perm("tenancy.view_environment")

    # The database's foreign keys still hold (a key of no environment is refused at commit), and the models' own
    # relations still reach every row: deleting the environment takes them all.
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(environment_id="00000000-0000-0000-0000-000000000000", prefix="x", key_hash="x")
    environment.delete()
    for model in (ApiKey, Member, ExportSettings, Subscription, Credential, Event, NotificationSettings):
        assert not model.objects.exists(), model


def test_the_state_the_migrations_build_is_the_models(db):
    """The state-only moves name every field as the models do: makemigrations finds nothing to write."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
