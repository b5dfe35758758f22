"""PostgreSQL's plans for the hot paths' queries: each uses its index and reads no big table whole.

Tens of thousands of rows are inserted by SQL (most of them finished deliveries of one subscription, as months of
running leave them) and ANALYZEd, so the planner weighs real statistics. Each test runs the real code, records the
statements it sends (execute_wrapper) and asks EXPLAIN (FORMAT JSON) for the plan of each.
"""

import json
import time
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from delivery.ingest import events_ingest
from delivery.models import Delivery
from delivery.retention import events_purge
from delivery.sweeper import deliveries_sweep
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.delivery.steps import claim
from tests.factories import event

ROWS = 30_000
BIG_TABLES = {"delivery_delivery", "delivery_event", "requestlog_requestlog"}
PENDING = 100


@pytest.fixture
def subscription(environment):
    return subscription_create(
        environment=environment, name="busy", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )


@pytest.fixture
def big_tables(environment, subscription):
    """ROWS events over 40 days, one delivery each (a few pending, retrying or sending, the rest finished; one in a
    hundred is a quiet subscription's), and a request log row per finished delivery; then ANALYZE."""
    other = subscription_create(
        environment=environment, name="quiet", event_types=["card-completed"], url="http://127.0.0.1:9/other"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO delivery_event (id, environment_id, event_id, name, is_test, payload, received_at)"
            " SELECT gen_random_uuid(), %s, 'evt_' || n, 'card-completed', false,"
            " jsonb_build_object('id', 'evt_' || n, 'eventName', 'card-completed'),"
            " now() - interval '40 days' * n / %s FROM generate_series(1, %s) AS n",
            [environment.pk, ROWS, ROWS],
        )
        cursor.execute(
            "INSERT INTO delivery_delivery (id, event_id, subscription_id, status, attempts, next_attempt_at,"
            " lease_expires_at, last_error, created_at, updated_at, completed_at)"
            " SELECT gen_random_uuid(), e.id, CASE WHEN n %% 100 = 0 THEN %s ELSE %s END,"
            " CASE WHEN n <= %s THEN 'pending' WHEN n <= %s THEN 'retrying' WHEN n <= %s THEN 'sending'"
            " WHEN n %% 20 = 1 THEN 'failed' ELSE 'succeeded' END, 1,"
            " CASE WHEN n <= %s THEN now() + interval '1 hour' END,"
            " CASE WHEN n > %s AND n <= %s THEN now() + interval '1 minute' END, '',"
            " e.received_at, e.received_at, CASE WHEN n > %s THEN e.received_at END"
            " FROM (SELECT id, received_at, row_number() OVER (ORDER BY received_at DESC) AS n FROM delivery_event) e",
            [
                other.pk,
                subscription.pk,
                PENDING,
                2 * PENDING,
                3 * PENDING,
                2 * PENDING,
                2 * PENDING,
                3 * PENDING,
                3 * PENDING,
            ],
        )
        # The pending ones are due now (their next attempt was set above for the retrying only).
        cursor.execute("UPDATE delivery_delivery SET next_attempt_at = now() WHERE status = 'pending'")
        cursor.execute(
            "INSERT INTO requestlog_requestlog (subscription_id, delivery_id, attempt, is_test, method, url,"
            " request_headers, request_body, request_body_size, response_status, response_headers, response_body,"
            " response_body_size, duration_ms, error, created_at) SELECT subscription_id, id, 1, false, 'POST',"
            " 'http://127.0.0.1:9/hook', '{}', '', 0, 204, '{}', '', 0, 3, '', created_at FROM delivery_delivery"
            " WHERE completed_at IS NOT NULL ORDER BY created_at"
        )
        for table in sorted(BIG_TABLES):
            cursor.execute(f"ANALYZE {table}")


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def statements_of(call) -> list[tuple[str, object]]:
    """Run `call`, and return each statement it sent that reads or writes a big table, with its parameters."""
    sent = []

    def record(execute, sql, params, many, context):
        if not many and any(table in sql for table in BIG_TABLES) and not sql.lstrip().upper().startswith("EXPLAIN"):
            sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call()
    return sent


def _explained(cursor, options: str, sql: str, params) -> dict:
    cursor.execute(f"EXPLAIN ({options}, FORMAT JSON) {sql}", params)
    (document,) = cursor.fetchone()
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def plans_of(call) -> list[tuple[str, list[dict]]]:
    """Run `call`, and return each statement it sent that reads or writes a big table, with its plan's nodes."""
    with connection.cursor() as cursor:
        return [(sql, list(_nodes(_explained(cursor, "COSTS", sql, params)))) for sql, params in statements_of(call)]


def buffers_of(call) -> list[tuple[str, int, int]]:
    """Run `call`, and return each SELECT it sent on a big table with the shared buffers it touches and the rows it
    returns: run again under EXPLAIN (ANALYZE, BUFFERS), twice, so that the count is the plan's, not the cache's."""
    touched = []
    with connection.cursor() as cursor:
        for sql, params in statements_of(call):
            if sql.lstrip().upper().startswith("SELECT"):
                _explained(cursor, "ANALYZE, BUFFERS", sql, params)
                plan = _explained(cursor, "ANALYZE, BUFFERS", sql, params)
                touched.append((sql, plan["Shared Hit Blocks"] + plan["Shared Read Blocks"], plan["Actual Rows"]))
    return touched


def seq_scans(plans) -> list[str]:
    return [
        f"{node['Relation Name']} in: {sql[:200]}"
        for sql, nodes in plans
        for node in nodes
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES
    ]


def indexes_used(plans) -> set[str]:
    return {node["Index Name"] for _, nodes in plans for node in nodes if "Index Name" in node}


def assert_served(plans, *expected: str) -> None:
    assert plans, "the call sent no statement on the big tables"
    assert not seq_scans(plans), seq_scans(plans)
    assert set(expected) <= indexes_used(plans), (expected, indexes_used(plans))


def _index_on(table: str, columns: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [table, f"%({columns})"],
        )
        (name,) = cursor.fetchone()
    return name


@pytest.mark.django_db
def test_the_checker_sees_a_sequential_scan(big_tables):
    """A filter no index serves is reported: the assertions below can fail."""
    plans = plans_of(lambda: list(Delivery.objects.filter(last_error="refused")[:10]))
    assert seq_scans(plans)
    with pytest.raises(AssertionError):
        assert_served(plans, "delivery_due")


@pytest.mark.django_db
def test_claim_finds_the_due_rows_of_its_subscription_by_their_index(big_tables, subscription):
    claimed = []
    plans = plans_of(lambda: claimed.extend(claim(subscription)))
    assert len(claimed) > 50
    assert_served(plans, "delivery_delivery_pkey", "delivery_event_pkey")
    # Either index of due rows serves it: here nearly every row is this subscription's, so the planner may walk
    # the due rows of all in order; with many subscriptions it takes this one's (both read due rows only).
    assert {"delivery_due_per_subscription", "delivery_due"} & indexes_used(plans)


@pytest.mark.django_db(transaction=True)
def test_a_claim_behind_another_subscriptions_older_backlog_reads_only_its_own_due_rows(environment, subscription):
    """A subscription whose endpoint rests keeps its backlog due (its drains are held back): another subscription's
    claim must not walk that backlog in the all-subscriptions due-time index to reach its own rows, filtering out
    each of them (measured with a backlog of a million ahead: 1,000,005 rows read and dropped, 470 ms a claim).
    Committed and truncated after (transaction=True): rolled back, its rows would stay behind as dead pages that
    change the other tests' plans."""
    others = [
        subscription_create(
            environment=environment, name=f"other-{n}", event_types=["card-completed"], url="http://127.0.0.1:9/o"
        )
        for n in range(8)
    ]
    later = others[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO delivery_event (id, environment_id, event_id, name, is_test, payload, received_at)"
            " VALUES (gen_random_uuid(), %s, 'evt_1', 'card-completed', false, '{}', now()) RETURNING id",
            [environment.pk],
        )
        (event_id,) = cursor.fetchone()
        # Months of finished deliveries; the resting subscription's backlog, each row rewritten by its failed attempt
        # and due again for two hours (its circuit holds its drains); the later subscription's, due since just now.
        cursor.execute(
            "INSERT INTO delivery_delivery (id, event_id, subscription_id, status, attempts, last_error, created_at,"
            " updated_at, completed_at) SELECT gen_random_uuid(), %s, (%s::uuid[])[1 + n %% 8], 'succeeded', 1, '',"
            " now() - interval '1 second' * n, now(), now() FROM generate_series(1, %s) AS n",
            [event_id, [str(other.pk) for other in others], 7 * ROWS],
        )
        for owner, rows in ((subscription, 3 * ROWS), (later, ROWS)):
            cursor.execute(
                "INSERT INTO delivery_delivery (id, event_id, subscription_id, status, attempts, next_attempt_at,"
                " last_error, created_at, updated_at)"
                " SELECT gen_random_uuid(), %s, %s, 'pending', 0, now() - interval '1 ms' * n, '',"
                " now(), now() FROM generate_series(1, %s) AS n",
                [event_id, owner.pk, rows],
            )
        cursor.execute(
            "UPDATE delivery_delivery SET status = 'retrying', attempts = 1,"
            " next_attempt_at = next_attempt_at - interval '2 hours' WHERE subscription_id = %s",
            [subscription.pk],
        )
        cursor.execute("ANALYZE delivery_delivery")
    claimed = []

    plans = plans_of(lambda: claimed.extend(claim(later)))

    assert len(claimed) == 100
    assert "delivery_due" not in indexes_used(plans), indexes_used(plans)
    assert_served(plans, "delivery_due_per_subscription")


@pytest.mark.django_db
def test_an_ordered_claim_finds_the_oldest_of_each_status_by_the_status_index(big_tables, subscription):
    Subscription.objects.filter(pk=subscription.pk).update(ordered=True)
    Delivery.objects.filter(status=Delivery.Status.SENDING).update(status=Delivery.Status.SUCCEEDED)
    Delivery.objects.filter(status=Delivery.Status.RETRYING).update(next_attempt_at=timezone.now())
    subscription.refresh_from_db()
    claimed = []
    plans = plans_of(lambda: claimed.extend(claim(subscription)))
    assert claimed
    assert_served(plans, _index_on("delivery_delivery", "subscription_id, status, created_at DESC"))


@pytest.mark.django_db
def test_sweep_finds_leases_and_due_subscriptions_by_their_partial_indexes(big_tables):
    Delivery.objects.filter(status=Delivery.Status.SENDING).update(lease_expires_at=timezone.now() - timedelta(1))
    plans = plans_of(deliveries_sweep)
    assert_served(plans, "delivery_leased", "delivery_due_per_subscription")


@pytest.mark.django_db
def test_deliveries_page_and_a_deep_cursor_page_read_the_newest_first_index(big_tables, api, subscription):
    def pages():
        first = api.get(f"/api/v1/subscriptions/{subscription.pk}/deliveries?limit=50")
        assert first.status_code == 200 and len(first.json()["results"]) == 50
        deeper = first
        for _ in range(3):
            deeper = api.get(deeper.json()["next"])
            assert deeper.status_code == 200

    assert_served(plans_of(pages), "delivery_newest_first")


@pytest.mark.django_db
def test_request_log_pages_of_a_busy_and_a_quiet_subscription_read_an_index(big_tables, api, subscription):
    quiet = Subscription.objects.get(name="quiet")

    def pages(subscription_id):
        first = api.get(f"/api/v1/subscriptions/{subscription_id}/requests?limit=50")
        assert first.status_code == 200 and len(first.json()["results"]) == 50
        assert api.get(first.json()["next"]).status_code == 200

    # The busy one holds 99% of the rows: walking the created_at index backwards finds a page at once, and the
    # planner may take that; the quiet one's page must come from its own range of the index in the page's order.
    assert_served(plans_of(lambda: pages(subscription.pk)))
    assert_served(plans_of(lambda: pages(quiet.pk)), "requestlog_newest_first")


# A page touches a few buffers per row it shows, however many rows the tables hold: its range of the index, and a
# delivery's event by primary key (three levels deep at ten million rows, two here) and heap page. Sorting, counting
# or skipping the rows before the cursor (an offset) would touch buffers in proportion to the subscription's rows.
BUFFERS_PER_ROW = 5
# The newest 3 * PENDING rows were updated by the fixture and not vacuumed: their dead versions are read too.
UPDATED_PAGES = 6


@pytest.mark.django_db
def test_a_page_touches_a_few_buffers_per_row_it_shows_however_deep(big_tables, api, subscription):
    def pages(kind):
        page = api.get(f"/api/v1/subscriptions/{subscription.pk}/{kind}?limit=50")
        for _ in range(20):
            page = api.get(page.json()["next"])
        assert page.status_code == 200 and len(page.json()["results"]) == 50

    for kind, table in (("deliveries", "delivery_delivery"), ("requests", "requestlog_requestlog")):
        # The page's own statement (a deliveries page also explains its rows: test_explain_of_a_page_is_bounded).
        touched = [
            (buffers, rows)
            for sql, buffers, rows in buffers_of(partial(pages, kind))
            if table in sql and "DESC" in sql and "LIMIT 51" in sql
        ]
        assert len(touched) == 21, kind
        settled = touched[UPDATED_PAGES:]
        assert all(buffers <= BUFFERS_PER_ROW * rows for buffers, rows in settled), (kind, touched)
        # The deepest page costs what the shallowest settled one does.
        assert settled[-1][0] <= settled[0][0] + 2, (kind, touched)


@pytest.mark.django_db
def test_explain_of_a_page_is_a_few_bounded_statements_whatever_its_rows(big_tables, api, subscription):
    def page():
        assert len(api.get(f"/api/v1/subscriptions/{subscription.pk}/deliveries?limit=50").json()["results"]) == 50

    explaining = [
        (sql, buffers, rows) for sql, buffers, rows in buffers_of(page) if "LIMIT 51" not in sql and "DESC" not in sql
    ]
    # Its next-to-go per status (3) and the due times ahead of the page's due rows (1), however many rows it shows.
    assert len(explaining) <= 4, explaining
    assert all(rows <= 1000 and buffers <= 5 * max(rows, 1) + 10 for _, buffers, rows in explaining), explaining


@pytest.mark.django_db
def test_metrics_counts_by_partial_indexes_and_samples_the_latest_attempts_by_key(big_tables):
    def scrape():
        assert Client().get("/metrics").status_code == 200

    assert_served(plans_of(scrape), "delivery_due", "delivery_leased", "requestlog_requestlog_pkey")


@pytest.mark.django_db
def test_ingest_looks_up_known_event_ids_by_the_unique_index(big_tables, environment):
    def ingest():
        result = events_ingest(environment=environment, raw_events=[event(id="evt_5"), event(id="brand-new")])
        assert (result.accepted, result.duplicates) == (1, 1)

    assert_served(plans_of(ingest), "event_unique_per_environment")


@pytest.mark.django_db
def test_purge_batches_walk_events_by_arrival_and_deliveries_by_event(big_tables):
    plans = plans_of(lambda: events_purge(older_than=timezone.now() - timedelta(days=39), batch_size=100))
    assert_served(plans, "event_received", _index_on("delivery_delivery", "event_id"))


@pytest.mark.django_db
def test_ingest_keys_events_and_deliveries_by_time_so_inserts_touch_the_newest_index_pages(environment, subscription):
    """Random keys would send each insert to a random leaf page of three ten-million-entry indexes (event and
    delivery primary keys, the delivery's event), pages not in PostgreSQL's buffers (4.4 read per ingest call
    against 0.14): docs/SCALING.md."""

    def ingested(event_id):
        events_ingest(environment=environment, raw_events=[event(id=event_id)])
        return Delivery.objects.select_related("event").get(event__event_id=event_id)

    earlier = ingested("evt_earlier")
    time.sleep(0.002)
    later = ingested("evt_later")
    assert {earlier.pk.version, earlier.event_id.version} == {7}
    assert earlier.pk < later.pk and earlier.event_id < later.event_id


@pytest.fixture
def small_environment(big_tables, catalog):
    """Another environment beside the busy one: three subscriptions, each with a few deliveries and request log rows
    spread over the same days, and an owner signed in to the Workbench."""
    from requestlog.models import RequestLog
    from tenancy.services import environment_create
    from tests.factories import member_client

    small, _ = environment_create(name="small")
    for index in range(3):
        subscription_create(
            environment=small, name=f"small {index}", event_types=["card-completed"], url="http://127.0.0.1:9/s"
        )
    events_ingest(environment=small, raw_events=[event(id=f"small-{n}") for n in range(10)])
    deliveries = Delivery.objects.filter(subscription__environment=small)
    for number, delivery in enumerate(deliveries):
        at = timezone.now() - timedelta(days=number)
        Delivery.objects.filter(pk=delivery.pk).update(created_at=at)
        RequestLog.objects.create(
            subscription_id=delivery.subscription_id,
            delivery_id=delivery.pk,
            method="POST",
            url="http://127.0.0.1:9/s",
            response_status=None if number % 3 else 200,
            error="connection refused" if number % 3 else "",
        )
        RequestLog.objects.filter(delivery_id=delivery.pk).update(created_at=at)
    with connection.cursor() as cursor:
        for table in ["subscriptions_subscription", *sorted(BIG_TABLES)]:
            cursor.execute(f"ANALYZE {table}")
    return member_client(small, "olive", role="owner")


@pytest.mark.django_db
def test_a_small_environment_s_workbench_lists_read_its_subscriptions_ranges(small_environment):
    """The request log and deliveries of a member's environment, newest first, are read from each of its
    subscriptions' range of the newest-first index: the busy environment's rows, nearly all of the tables, are not
    walked (the date index backwards, or the primary key) looking for the small one's."""
    pages = [
        "/admin/requestlog/requestlog/",
        "/admin/requestlog/requestlog/?outcome=failure&from=2026-01-01&to=2099-12-31",
        "/admin/requestlog/requestlog/?q=small-3",
        "/admin/delivery/delivery/",
    ]

    def load(url):
        response = small_environment.get(url)
        assert response.status_code == 200 and response.context["cl"].result_count > 0, url

    by_date = _index_on("requestlog_requestlog", "created_at")
    for url in pages:
        plans = plans_of(partial(load, url))
        assert_served(plans)
        walked = [
            node["Index Name"]
            for _, nodes in plans
            for node in nodes
            if node.get("Index Name") == by_date
            or (node.get("Index Name") == "delivery_delivery_pkey" and "Index Cond" not in node)
        ]
        assert not walked, (url, walked)
