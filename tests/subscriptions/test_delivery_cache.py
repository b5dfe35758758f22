"""What a delivery batch reads of its subscription: kept per worker process, loaded again once anything changed."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.versioned_rows import VersionedModel, VersionedQuerySet
from credentials.models import Credential
from credentials.services import credential_create, credential_update
from subscriptions.delivery_cache import subscription_for_delivery
from subscriptions.models import ExportSettings, Subscription
from subscriptions.services import (
    export_settings_update,
    subscription_create,
    subscription_delete,
    subscription_pause_by_id,
    subscription_update,
)


def _subscription(environment, **fields):
    return subscription_create(
        environment=environment, name="sink", event_types=["card-completed"], url="http://127.0.0.1:9/a", **fields
    )


def test_an_unchanged_subscription_is_read_with_one_query_and_not_loaded_again(environment):
    subscription = _subscription(environment)
    first = subscription_for_delivery(subscription_id=subscription.pk)
    with CaptureQueriesContext(connection) as queries:
        again = subscription_for_delivery(subscription_id=str(subscription.pk))
    assert again is first and len(queries) == 1
    assert first.environment.export_settings.include_test_events is False


def test_each_change_a_delivery_reads_is_seen_by_the_next_batch(environment):
    credential = credential_create(
        environment=environment,
        name="basic",
        type=Credential.Type.BASIC_AUTH,
        values={"username": "u", "password": "p1"},
    )
    subscription = _subscription(environment, credential=credential.pk)
    assert subscription_for_delivery(subscription_id=subscription.pk).credential.secrets["password"] == "p1"

    subscription_update(subscription=subscription, url="http://127.0.0.1:9/b")
    assert subscription_for_delivery(subscription_id=subscription.pk).url == "http://127.0.0.1:9/b"

    credential_update(credential=credential, values={"password": "p2"})
    assert subscription_for_delivery(subscription_id=subscription.pk).credential.secrets["password"] == "p2"

    export_settings_update(environment=environment, include_test_events=True)
    assert subscription_for_delivery(subscription_id=subscription.pk).environment.export_settings.include_test_events

    subscription_update(subscription=subscription, credential=None)
    assert subscription_for_delivery(subscription_id=subscription.pk).credential is None

    assert subscription_pause_by_id(subscription_id=subscription.pk, reason="worker")
    assert subscription_for_delivery(subscription_id=subscription.pk).status == "paused"

    subscription_delete(subscription=subscription)
    assert subscription_for_delivery(subscription_id=subscription.pk) is None


def test_writes_that_forget_updated_at_are_seen_by_the_next_batch_all_the_same(environment):
    subscription = _subscription(environment)
    assert subscription_for_delivery(subscription_id=subscription.pk).url == "http://127.0.0.1:9/a"

    Subscription.objects.filter(pk=subscription.pk).update(url="http://127.0.0.1:9/b")
    assert subscription_for_delivery(subscription_id=subscription.pk).url == "http://127.0.0.1:9/b"

    subscription.url = "http://127.0.0.1:9/c"
    subscription.save(update_fields=["url"])
    assert subscription_for_delivery(subscription_id=subscription.pk).url == "http://127.0.0.1:9/c"

    subscription.max_retries = 3
    Subscription.objects.bulk_update([subscription], ["max_retries"])
    assert subscription_for_delivery(subscription_id=subscription.pk).max_retries == 3

    ExportSettings.objects.filter(environment=environment).update(include_request_payload=True)
    loaded = subscription_for_delivery(subscription_id=subscription.pk)
    assert loaded.environment.export_settings.include_request_payload


def test_every_table_the_version_reads_is_one_whose_writes_move_updated_at():
    for model in (Subscription, Credential, ExportSettings):
        assert issubclass(model, VersionedModel), model
        assert isinstance(model.objects.all(), VersionedQuerySet), model
