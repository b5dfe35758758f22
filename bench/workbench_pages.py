"""The Workbench's pages with a realistic environment: 100 subscriptions, 10,000 request log rows (and their events and
deliveries) spread over the last 31 days; each page's server time, the median of several loads, as a signed-in owner
(who sees every page an editor does, and the members and API keys) sees it.

    export DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/outflow_workbench_bench
    export CACHE_URL=redis://127.0.0.1:6379/10
    .venv/bin/python manage.py migrate
    .venv/bin/python -m bench.workbench_pages [--loads 7] [--bulk-rows 10000000]

`--bulk-rows N` first fills other environments (ten, of ten subscriptions each) with N events, N deliveries and N
request log rows over the same 31 days, so that the measured environment is a small part of large tables, as one
customer among many is. The rows go in with INSERT … SELECT generate_series, the tables' secondary indexes and foreign
keys dropped meanwhile and built again afterwards, then VACUUM ANALYZE (10 M rows took 11 minutes on two busy cores,
and 9 GB of disk). A later run with the same N keeps them.

Prints one JSON line: {"bulk_rows": N, "fill_seconds": …, "pages": {"page": milliseconds, …}}. It empties the
database's environments first: use its own database.
"""

import argparse
import json
import os
import statistics
import sys
import time

import django

SUBSCRIPTIONS = 100
REQUEST_LOG_ROWS = 10_000
DAYS = 31
BULK_ENVIRONMENTS = 10
BULK_SUBSCRIPTIONS_EACH = 10
BULK_PREFIX = "bulk-"


def _say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def _age(rows: int) -> str:
    """How long before now row n was made: spread over DAYS days, n's neighbours far apart in time (7919 is prime)."""
    return f"interval '{DAYS} days' * (((n * 7919) % {rows}) / {rows}::float8)"


def _uuid7(at: str, seed: str) -> str:
    """SQL of a time-ordered id (config/time_ordered_ids.py) of the time `at`, its random bits an md5 of `seed`."""
    digest = f"md5({seed})"
    return (
        f"(lpad(to_hex((extract(epoch FROM {at}) * 1000)::bigint), 12, '0') || '7' || substr({digest}, 1, 3)"
        f" || '8' || substr({digest}, 4, 15))::uuid"
    )


def _bulk_statements(rows: int, environments: list[str], subscriptions: list[str]) -> list[str]:
    """The INSERTs of N events, deliveries and request log rows in the bulk environments, each table's from
    generate_series alone: ids are time-ordered, as Outflow's are, their random bits md5s of n."""
    rows = int(rows)
    environment_array = "ARRAY[" + ",".join(f"'{pk}'::uuid" for pk in environments) + "]"
    subscription_array = "ARRAY[" + ",".join(f"'{pk}'::uuid" for pk in subscriptions) + "]"
    count, each = len(environments), BULK_SUBSCRIPTIONS_EACH
    subscription = f"({subscription_array})[(1 + (n % {count}) * {each} + (n / {count}) % {each})::int]"
    event_id, delivery_id = _uuid7("at", "'bulk-event-' || n"), _uuid7("at", "'bulk-delivery-' || n")
    failed = "n % 20 = 0"
    # now() is the transaction's (bulk_fill's one): a row's time, and so its ids, are the same in all three tables.
    series = f"(SELECT n, now() - {_age(rows)} AS at FROM generate_series(1, {rows}::bigint) AS n) AS g"
    return [
        "INSERT INTO delivery_event (id, environment_id, event_id, name, card, is_test, payload, received_at)"
        f" SELECT {event_id}, ({environment_array})[(1 + n % {count})::int], 'bulk-' || n,"
        " CASE WHEN n % 2 = 0 THEN 'card-completed' ELSE 'card-dismissed' END, NULL, false,"
        " jsonb_build_object('id', 'bulk-' || n, 'eventName', 'card-completed', 'endUserId', 'user-' || (n % 1000)),"
        f" at FROM {series} ORDER BY at",
        "INSERT INTO delivery_delivery (id, event_id, subscription_id, status, attempts, last_status_code, last_error,"
        " created_at, updated_at, completed_at)"
        f" SELECT {delivery_id}, {event_id}, {subscription},"
        f" CASE WHEN {failed} THEN 'failed' ELSE 'succeeded' END, 1, CASE WHEN {failed} THEN 503 ELSE 200 END,"
        f" CASE WHEN {failed} THEN 'endpoint answered 503' ELSE '' END, at, at, at FROM {series} ORDER BY at",
        "INSERT INTO requestlog_requestlog (delivery_id, attempt, is_test, method, url, request_headers, request_body,"
        " request_body_size, response_status, response_headers, response_body, response_body_size, duration_ms, error,"
        " created_at, subscription_id)"
        f" SELECT {delivery_id}, 1, false, 'POST', 'http://127.0.0.1:9/bulk', '{{}}', '', 0,"
        f" CASE WHEN {failed} THEN 503 ELSE 200 END, '{{}}', '', 0, 40, '', at, {subscription}"
        f" FROM {series} ORDER BY at",
    ]


def _spread(cursor, environment_id) -> None:
    """The environment's events, deliveries and request log rows moved to random times over the last DAYS days, among
    the bulk environments' rows, with time-ordered ids of their new times (one transaction: the foreign keys are
    checked at its end)."""
    cursor.execute(
        "CREATE TEMP TABLE moved_event ON COMMIT DROP AS SELECT id AS old, new_at, "
        + _uuid7("new_at", "id::text")
        + " AS new FROM (SELECT id, now() - interval '"
        + str(DAYS)
        + " days' * random() AS new_at FROM delivery_event WHERE environment_id = %s) AS e",
        [environment_id],
    )
    cursor.execute(
        "CREATE TEMP TABLE moved_delivery ON COMMIT DROP AS SELECT id AS old, event_id, new_at, "
        + _uuid7("new_at", "id::text")
        + " AS new FROM (SELECT d.id, d.event_id, e.new_at + interval '1 second' * random() AS new_at"
        " FROM delivery_delivery d JOIN moved_event e ON e.old = d.event_id) AS d"
    )
    cursor.execute(
        "UPDATE delivery_event SET id = m.new, received_at = m.new_at FROM moved_event m"
        " WHERE delivery_event.id = m.old"
    )
    cursor.execute(
        "UPDATE delivery_delivery SET id = m.new, event_id = e.new, created_at = m.new_at, updated_at = m.new_at"
        " FROM moved_delivery m JOIN moved_event e ON e.old = m.event_id WHERE delivery_delivery.id = m.old"
    )
    cursor.execute(
        "UPDATE requestlog_requestlog SET delivery_id = m.new, created_at = m.new_at FROM moved_delivery m"
        " WHERE requestlog_requestlog.delivery_id = m.old"
    )


BULK_TABLES = ("delivery_event", "delivery_delivery", "requestlog_requestlog")


def bulk_fill(rows: int) -> float:
    """Other environments holding `rows` events, deliveries and request log rows; seconds it took (0 when kept). One
    transaction, so that a fill cut short leaves the tables, their indexes and foreign keys as they were."""
    from django.db import connection, transaction

    from bench.retention_layouts import secondary_indexes
    from subscriptions.services import subscription_create
    from tenancy.models import Environment
    from tenancy.services import environment_create

    bulk = list(Environment.objects.filter(name__startswith=BULK_PREFIX).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM delivery_event WHERE environment_id = ANY(%s)", [bulk])
        if len(bulk) == BULK_ENVIRONMENTS and cursor.fetchone()[0] == rows:
            _say(f"keeping the {rows} rows of the bulk environments")
            return 0.0
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        _say("emptying the database")
        cursor.execute("TRUNCATE subscriptions_environment CASCADE")
        environments, subscriptions = [], []
        for index in range(BULK_ENVIRONMENTS):
            environment, _ = environment_create(name=f"{BULK_PREFIX}{index}")
            environments.append(str(environment.pk))
            subscriptions.extend(
                str(
                    subscription_create(
                        environment=environment,
                        name=f"Bulk {index}.{each}",
                        event_types=["card-completed", "card-dismissed"],
                        url=f"http://127.0.0.1:9/bulk/{index}/{each}",
                    ).pk
                )
                for each in range(BULK_SUBSCRIPTIONS_EACH)
            )
        # The new subscriptions' foreign keys are checked now: a table with checks pending cannot be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes = secondary_indexes(cursor, BULK_TABLES)
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'",
            [list(BULK_TABLES)],
        )
        foreign_keys = cursor.fetchall()
        # A deferred foreign key queues a check per row until commit, and an index takes random inserts: both are
        # cheaper done once at the end.
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for table, name, _, unique in indexes:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}" if unique else f"DROP INDEX {name}")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for table, statement in zip(BULK_TABLES, _bulk_statements(rows, environments, subscriptions), strict=True):
            _say(f"filling {table}")
            cursor.execute(statement)
        for table, name, definition, unique in indexes:
            _say(f"building {name}")
            columns = definition[definition.index("(") :]
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE {columns}" if unique else definition)
        for table, name, definition in foreign_keys:
            _say(f"checking {name}")
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    with connection.cursor() as cursor:
        for table in BULK_TABLES:
            _say(f"vacuuming {table}")
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.monotonic() - started


def seed():
    from django.db import connection, transaction

    from credentials.services import credential_create
    from delivery.ingest import events_ingest
    from delivery.models import Delivery
    from requestlog.models import RequestLog
    from subscriptions.models import Subscription
    from subscriptions.services import subscription_create
    from tenancy.models import Environment
    from tenancy.services import environment_create, member_set

    earlier = Environment.objects.exclude(name__startswith=BULK_PREFIX)
    # Subscriptions first: a credential in use is protected.
    Subscription.objects.filter(environment__in=earlier).delete()
    earlier.delete()
    environment, _ = environment_create(name="bench")
    credential = credential_create(
        environment=environment,
        name="Receiver login",
        type="basic_auth",
        values={"username": "outflow", "password": "bench-password"},
    )
    subscriptions = [
        subscription_create(
            environment=environment,
            name=f"Receiver {index:03d}",
            event_types=["card-completed", "card-dismissed"],
            url=f"http://127.0.0.1:9/hooks/{index}",
            credential=credential.pk if index == 0 else None,
        )
        for index in range(SUBSCRIPTIONS)
    ]
    events = [
        {"id": f"evt-{index}", "eventName": "card-completed", "timestamp": "2026-11-28T10:00:00Z"}
        for index in range(REQUEST_LOG_ROWS // SUBSCRIPTIONS)
    ]
    events_ingest(environment=environment, raw_events=events)
    deliveries = list(Delivery.objects.filter(subscription__environment=environment).values_list("pk", "subscription"))
    RequestLog.objects.bulk_create(
        [
            RequestLog(
                subscription_id=subscription_id,
                delivery_id=delivery_id,
                method="POST",
                url="http://127.0.0.1:9/hooks/x",
                response_status=200 if index % 7 else None,
                error="" if index % 7 else "connection refused",
            )
            for index, (delivery_id, subscription_id) in enumerate(deliveries)
        ],
        batch_size=2000,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _spread(cursor, environment.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE subscriptions_subscription")
        for table in BULK_TABLES:
            cursor.execute(f"ANALYZE {table}")
    member, _ = member_set(environment=environment, username="bench-owner", role="owner")
    delivery = Delivery.objects.filter(subscription=subscriptions[0]).order_by("-created_at").first()
    return member.user, subscriptions[0], delivery.pk, credential


def measure(loads: int) -> dict[str, float]:
    from django.test import Client

    user, subscription, delivery_id, credential = seed()
    client = Client()
    client.force_login(user)
    base = f"/admin/subscriptions/subscription/{subscription.pk}"
    pages = {
        "home": "/admin/",
        "subscriptions": "/admin/subscriptions/subscription/",
        "subscription": f"{base}/change/",
        "subscription history": f"{base}/history/",
        "send test": f"{base}/send-test/",
        "show secret (confirmation)": f"{base}/secret/",
        "mapping editor": f"{base}/mapping/",
        "request log": "/admin/requestlog/requestlog/",
        "request log of one subscription": f"/admin/requestlog/requestlog/?subscription__id__exact={subscription.pk}",
        "request log, failures by date": (
            "/admin/requestlog/requestlog/?outcome=failure&from=2026-01-01&to=2027-12-31"
        ),
        "request log search by event id": "/admin/requestlog/requestlog/?q=evt-42",
        "request log search by delivery id": f"/admin/requestlog/requestlog/?q={delivery_id}",
        "deliveries": "/admin/delivery/delivery/",
        "deliveries of one subscription": f"/admin/delivery/delivery/?subscription__id__exact={subscription.pk}",
        "delivery": f"/admin/delivery/delivery/{delivery_id}/change/",
        "events": "/admin/delivery/event/",
        "events search by event id": "/admin/delivery/event/?q=evt-42",
        "credentials": "/admin/credentials/credential/",
        "credential": f"/admin/credentials/credential/{credential.pk}/change/",
        "audit log": "/admin/audit/auditentry/",
        "members": "/admin/tenancy/member/",
        "API keys": "/admin/tenancy/apikey/",
        "export settings": "/admin/subscriptions/exportsettings/",
        "notification settings": "/admin/notifications/notificationsettings/",
        "notifications": "/admin/notifications/notification/",
        "palette entries": "/admin/environment/palette/",
    }
    results = {}
    for name, url in pages.items():
        timings = []
        for _ in range(loads):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        results[name] = round(statistics.median(timings), 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument(
        "--bulk-rows", type=int, default=0, help="events, deliveries and request log rows of other environments"
    )
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from tenancy.actors import OPERATOR, Actor, acting_as

    # The seeding's changes of configuration are written to the audit log as an operator's.
    with acting_as(Actor(type=OPERATOR, id="", name="bench.workbench_pages")):
        fill_seconds = bulk_fill(arguments.bulk_rows) if arguments.bulk_rows else 0.0
        pages = measure(arguments.loads)
    print(json.dumps({"bulk_rows": arguments.bulk_rows, "fill_seconds": round(fill_seconds), "pages": pages}))


if __name__ == "__main__":
    main()
