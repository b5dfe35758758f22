"""Hot paths at scale: each measured on empty tables, then with N finished deliveries (and their events and request
log rows) in one subscription; then the purge of the oldest day with ingest going on, and `recover` of M deliveries.

The bench (bench/run.py) runs `python -m bench.hot_paths --rows N --base-url URL --api-key KEY --subscription ID`
under Outflow's settings with worker and beat frozen; it prints one JSON line. Ingest, the two pages (first page and
a cursor half-way down) and /metrics go through the running web; a drain's claim and the sweep are called in this
process.
`recover_scenario` runs in the harness afterwards, with the pipeline running.
"""

import argparse
import base64
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import django

from bench.api import OutflowApi
from bench.databases import OutflowDatabase
from bench.load import event
from bench.processes import poll_until

CLAIM_BATCH = 100  # OUTFLOW_DELIVERY_BATCH: what one claim of a drain takes
SWEEP_LOCK_WAIT_SECONDS = 30.0
PAGE = 50
DAYS = 31  # bench.retention_layouts spreads the rows over this many days
# The empty side holds this many finished deliveries (and request log rows) over the same days, so that each page
# it serves, the first and the one half-way down, is a full page as on the full side: a page of no rows costs about
# half what a page of PAGE rows does (serializing them), a difference of the page's size, not the tables'.
SEED_ROWS = 4 * PAGE


def _expect(got: int, wanted: int, *, what: str) -> None:
    """A hot path that did less than its work would time as fast: fail instead."""
    if got != wanted:
        raise RuntimeError(f"{what}: {got}, expected {wanted}")


def _timed_ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "calls": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[max(0, -(-len(ordered) * 95 // 100) - 1)], 3),
    }


def _cursor(position: datetime) -> str:
    """DRF's cursor for the page after `position` (newest first): what a client deep in the list sends back."""
    return base64.b64encode(urlencode({"p": str(position)}).encode()).decode()


class HotPaths:
    def __init__(self, *, api: OutflowApi, subscription_id: str, repeats: int):
        from delivery.models import Delivery
        from subscriptions.models import Subscription

        self.api = api
        self.subscription = Subscription.objects.get(pk=subscription_id)
        self.repeats = repeats
        self._sequence = 0
        self.api.events_post(self._events_body(CLAIM_BATCH))
        self.claimable = list(
            Delivery.objects.filter(subscription=self.subscription, status=Delivery.Status.PENDING).values_list(
                "pk", flat=True
            )
        )

    def _events_body(self, count: int) -> bytes:
        events = []
        for _ in range(count):
            self._sequence += 1
            events.append(event(event_id=f"hot-{self._sequence}", sent_at=time.time()))
        return json.dumps({"events": events}).encode()

    def _claimable_reset(self) -> None:
        """The batch due again: pending, due a second ago, no lease (as a claim or a sweep finds fresh work)."""
        from django.db.models.functions import Now

        from delivery.models import Delivery

        Delivery.objects.filter(pk__in=self.claimable).update(
            status=Delivery.Status.PENDING, next_attempt_at=Now() - timedelta(seconds=1), lease_expires_at=None
        )

    def ingest(self) -> dict:
        """One event a call, as a steady producer sends them (batches are the throughput measure's business)."""
        return _summary([_timed_ms(lambda: self.api.events_post(self._events_body(1))) for _ in range(self.repeats)])

    def claim(self) -> dict:
        """A drain's claim of its subscription's oldest CLAIM_BATCH due deliveries (one statement with a lease)."""
        from delivery.claims import deliveries_claim
        from delivery.leases import lease_seconds

        lease = lease_seconds(subscription=self.subscription)
        samples = []
        for _ in range(self.repeats):
            self._claimable_reset()
            samples.append(
                _timed_ms(
                    lambda: _expect(
                        len(
                            deliveries_claim(
                                subscription=self.subscription, limit=CLAIM_BATCH, lease_seconds=lease
                            ).deliveries
                        ),
                        CLAIM_BATCH,
                        what="deliveries claimed",
                    )
                )
            )
        return _summary(samples)

    def sweep(self) -> dict:
        """A sweep that finds the subscription's CLAIM_BATCH due deliveries and wakes its drain (the task waits in
        the frozen worker's queue). The sweeper looks per subscription: its wake's debounce key is cleared before
        each call, so that every call publishes. A call that finds the sweepers' lock held (the frozen worker's own
        sweeper thread stopped mid-sweep) is not a sample: it did no work."""
        from delivery.coordination import coordination
        from delivery.sweeper import deliveries_sweep

        samples = []
        gives_up = time.monotonic() + SWEEP_LOCK_WAIT_SECONDS
        while len(samples) < self.repeats:
            self._claimable_reset()
            coordination().wake_clear(subscription_id=self.subscription.pk)
            started = time.perf_counter()
            swept = deliveries_sweep()
            elapsed = (time.perf_counter() - started) * 1000
            if swept is None:
                if time.monotonic() > gives_up:
                    raise RuntimeError("another sweeper holds the sweepers' lock: no sweep could be measured")
                time.sleep(0.1)
                continue
            _expect(swept["woken"], 1, what="subscriptions woken")
            samples.append(elapsed)
        return _summary(samples)

    def page(self, kind: str, *, deep: datetime) -> dict:
        path = f"/api/v1/subscriptions/{self.subscription.pk}/{kind}?limit={PAGE}"
        first = [_timed_ms(lambda: self.api.get(path)) for _ in range(self.repeats)]
        deep_path = f"{path}&cursor={_cursor(deep)}"
        deeper = [_timed_ms(lambda: self.api.get(deep_path)) for _ in range(self.repeats)]
        return {
            "first": {**_summary(first), "rows": len(self.api.get(path)["results"])},
            "deep": {**_summary(deeper), "rows": len(self.api.get(deep_path)["results"])},
        }

    def metrics(self) -> dict:
        return _summary([_timed_ms(lambda: self.api.get_text("/metrics")) for _ in range(self.repeats)])

    def measure(self) -> dict:
        # Half-way down the list: the fill spreads the rows over DAYS days up to now.
        deep = datetime.now(UTC) - timedelta(days=DAYS / 2)
        return {
            "ingest": self.ingest(),
            "claim": self.claim(),
            "sweep": self.sweep(),
            "deliveries_page": self.page("deliveries", deep=deep),
            "request_log_page": self.page("requests", deep=deep),
            "metrics": self.metrics(),
        }


def request_logs_fill(cursor, *, subscription_id) -> None:
    """One request log row per succeeded delivery of the subscription that has none yet, stamped as the delivery;
    indexes built afterwards."""
    from bench.retention_layouts import secondary_indexes

    indexes = secondary_indexes(cursor, ("requestlog_requestlog",))
    for _, name, _, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    cursor.execute(
        "INSERT INTO requestlog_requestlog (subscription_id, delivery_id, attempt, is_test, method, url,"
        " request_headers, request_body, request_body_size, response_status, response_headers, response_body,"
        " response_body_size, duration_ms, error, created_at) SELECT d.subscription_id, d.id, 1, false, 'POST',"
        " 'http://127.0.0.1/hook', '{}', '[redacted]', 1024, 204, '{}', '', 0, 3, '', d.created_at"
        " FROM delivery_delivery d WHERE d.subscription_id = %s AND d.status = 'succeeded'"
        " AND NOT EXISTS (SELECT FROM requestlog_requestlog r WHERE r.delivery_id = d.id) ORDER BY d.created_at",
        [subscription_id],
    )
    for _, _, definition, _ in indexes:
        cursor.execute(definition)


def tables_fill(*, rows: int, subscription, event_id_prefix: str = "evt_") -> float:
    """N events over DAYS days with one succeeded delivery each, and their request log rows; seconds taken."""
    from django.db import connection

    from bench.retention_layouts import outflow_tables_fill

    started = time.monotonic()
    with connection.cursor() as cursor:
        outflow_tables_fill(cursor, rows, subscription.environment_id, subscription.pk, event_id_prefix=event_id_prefix)
        request_logs_fill(cursor, subscription_id=subscription.pk)
        # Vacuumed as autovacuum would be by then: the visibility map lets index-only scans skip the heap.
        cursor.execute("VACUUM ANALYZE delivery_event")
        cursor.execute("VACUUM ANALYZE delivery_delivery")
        cursor.execute("VACUUM ANALYZE requestlog_requestlog")
        # The fill's gigabytes are written out now, not by the checkpointer while the full side is being measured
        # (ingest's commits then wait on a disk busy with it).
        cursor.execute("CHECKPOINT")
    return time.monotonic() - started


def purge_measure(*, api: OutflowApi, baseline_seconds: float) -> dict:
    """expired_purge (retention 30 days: the oldest of DAYS days goes) while one event a call is ingested."""
    from bench.retention_layouts import IngestProbe
    from delivery.retention import expired_purge

    def ingest_one(sequence: int) -> None:
        api.events_post(json.dumps({"events": [event(event_id=f"purge-probe-{sequence}")]}).encode())

    with IngestProbe(ingest_one) as probe:
        time.sleep(baseline_seconds)
    before = probe.summary()
    with IngestProbe(lambda sequence: ingest_one(sequence + 10**9)) as probe:
        started = time.monotonic()
        counts = expired_purge()
        seconds = time.monotonic() - started
    removed = counts.events + counts.deliveries + counts.request_logs
    return {
        **counts.as_dict(),
        "seconds": seconds,
        "rows_per_second": removed / seconds if seconds else None,
        "ingest_before": before,
        "ingest_during": probe.summary(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--purge-baseline-seconds", type=float, default=5.0)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--subscription", required=True)
    arguments = parser.parse_args()
    django.setup()
    api = OutflowApi(base_url=arguments.base_url, api_key=arguments.api_key, connections=2)
    paths = HotPaths(api=api, subscription_id=arguments.subscription, repeats=arguments.repeats)
    tables_fill(rows=SEED_ROWS, subscription=paths.subscription, event_id_prefix="seed_")
    result = {"rows": arguments.rows, "seed_rows": SEED_ROWS, "empty": paths.measure()}
    result["fill_seconds"] = tables_fill(rows=arguments.rows - SEED_ROWS, subscription=paths.subscription)
    result["full"] = paths.measure()
    result["purge"] = purge_measure(api=api, baseline_seconds=arguments.purge_baseline_seconds)
    print(json.dumps(result))


def recover_scenario(*, api: OutflowApi, database: OutflowDatabase, subscription_id: str, count: int) -> dict:
    """M failed deliveries (of events already stored) in one subscription, recovered through the API: how long the
    call takes, and how long its batches take to make them all pending again (the database's clock)."""
    since = datetime.now(UTC) - timedelta(hours=2)
    database.failed_deliveries_insert(subscription_id=subscription_id, count=count)
    started = time.perf_counter()
    answer = api.recover(subscription_id, since=since.isoformat())
    answer_ms = (time.perf_counter() - started) * 1000
    finished = poll_until(lambda: database.recovery_progress(subscription_id)["finished"], timeout=600, interval=0.25)
    progress = database.recovery_progress(subscription_id)
    return {
        "deliveries": count,
        "answered": answer,
        "answer_ms": answer_ms,
        "finished": finished,
        "recovered": progress["recovered"],
        "requeue_seconds": progress["seconds"],
        "deliveries_per_second": progress["recovered"] / progress["seconds"] if progress["seconds"] else None,
    }


if __name__ == "__main__":
    main()
