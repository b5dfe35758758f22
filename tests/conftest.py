"""Fixtures shared by the suite: environments, API clients, a real receiver and real Celery processes."""

import os

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from config import shared_cache
from subscriptions.event_catalog import PLATFORM_EVENT_TYPES
from subscriptions.models import EventType
from tenancy.actors import OPERATOR, Actor, acting_as
from tenancy.services import environment_create
from tests import leak_watch
from tests.moto_server import MotoServer
from tests.mtls import mutual_tls_endpoint
from tests.receiver import Receiver
from tests.smtp_server import SmtpServer
from tests.squid_proxy import SquidProxy
from tests.worker import CeleryProcesses


@pytest.fixture(autouse=True)
def shared_cache_fresh(monkeypatch):
    """Each test starts with the shared cache tried at once, and its next failure warned about."""
    monkeypatch.setattr(shared_cache, "_retry_at", 0.0)
    monkeypatch.setattr(shared_cache, "_last_warning", 0.0)


TEST_ACTOR = Actor(type=OPERATOR, id="", name="the test suite")


@pytest.fixture(autouse=True)
def test_actor():
    """Services a test calls directly act as an operator (a request, a command or a worker sets its own actor)."""
    with acting_as(TEST_ACTOR):
        yield TEST_ACTOR


@pytest.fixture
def catalog(db):
    """The event type catalog (a transactional test's flush empties the migration's seed)."""
    EventType.objects.bulk_create(
        [EventType(name=name, description=description) for name, description in PLATFORM_EVENT_TYPES.items()],
        ignore_conflicts=True,
    )


@pytest.fixture
def environment(catalog):
    environment, key = environment_create(name="acme")
    environment.api_key = key
    return environment


@pytest.fixture
def api(environment) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {environment.api_key}")
    return client


@pytest.fixture
def other_api(catalog) -> APIClient:
    _, key = environment_create(name="other")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def attempt_pending():
    """Drain every subscription with due deliveries now, in this process, as a worker would."""
    from delivery.drain import subscription_drain
    from delivery.sweeper import subscriptions_due

    def attempt() -> None:
        for subscription_id in subscriptions_due():
            subscription_drain(subscription_id=subscription_id)

    return attempt


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def mtls_endpoint():
    """An HTTPS receiver that requires a client certificate of its own private CA (tests/mtls.py)."""
    endpoint = mutual_tls_endpoint()
    yield endpoint
    endpoint.receiver.close()


@pytest.fixture
def squid():
    """Debian's squid on a free loopback port, its config and logs in a temporary directory."""
    proxy = SquidProxy()
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def moto():
    """moto's server on loopback for the session, IAM authentication on, with a user allowed the AWS targets' calls."""
    server = MotoServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on loopback; the worker mails through it."""
    server = SmtpServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def celery_processes(django_db_setup, django_db_blocker, smtp_server):
    """A worker, a notifier and beat on the test database and a dedicated Redis database, for the whole session."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    database = connection.settings_dict
    processes = CeleryProcesses(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            # One sandbox process, so the mapping isolation tests' tenants share it as an attacker would hope.
            "OUTFLOW_MAPPING_PROCESSES": "1",
            "EMAIL_URL": smtp_server.url,
        }
    )
    leak_watch.watch_logs_in(processes.directory)
    processes.start()
    yield processes
    processes.stop()


@pytest.fixture
def worker(celery_processes, transactional_db, catalog):
    """A running worker and notifier for a test whose rows are committed (so they see them)."""
    if celery_processes.worker.poll() is not None:
        celery_processes.start_worker()
    if celery_processes.notifier.poll() is not None:
        celery_processes.start_notifier()
    return celery_processes


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: nothing may pass by not running."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") and reporter and reporter.stats.get("skipped"):
        session.exitstatus = 1


def pytest_configure(config):
    leak_watch.start()


def pytest_collection_modifyitems(items):
    """The tests with the session's Celery processes run after every other (pytest-django's order kept within each
    group), so that its worker, which sweeps and drains whatever is due in the test database, never works beside a
    test that does not expect it; the secret scan runs last, over everything the suite produced before it."""
    items.sort(
        key=lambda item: (item.get_closest_marker("secret_scan") is not None, "celery_processes" in item.fixturenames)
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    if {"db", "transactional_db"} & set(item.fixturenames):
        with item.config.stash[blocking_manager_key].unblock():
            leak_watch.record_request_log()
            leak_watch.record_audit_log()
            if "transactional_db" in item.fixturenames:
                # Nothing to roll back: close what this read opened, which a browser test's event loop
                # would otherwise keep from the test database's teardown.
                connections.close_all()
    yield
