"""Two ingest calls racing on the same event ids: each event is stored once, and neither call fails."""

import threading
import time

from django.db import connection, connections, transaction

from delivery.ingest import events_ingest
from delivery.models import Delivery, Event
from subscriptions.services import subscription_create
from tests.factories import event


def _waiting_on_a_lock(timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


def test_an_event_stored_by_a_call_still_in_flight_is_a_duplicate_not_an_error(transactional_db, environment):
    subscription_create(environment=environment, name="sink", event_types=["card-completed"], url="http://127.0.0.1:9/")
    first, second = event(), event()
    stored, release, results = threading.Event(), threading.Event(), {}

    def other_call():
        # Stores `first` and holds its transaction open: the racing call cannot see the row, only collide with it.
        with transaction.atomic():
            results["other"] = events_ingest(environment=environment, raw_events=[first])
            stored.set()
            release.wait(10)
        connections.close_all()

    def racing_call():
        try:
            results["racing"] = events_ingest(environment=environment, raw_events=[first, second])
        except Exception as error:
            results["racing"] = error
        connections.close_all()

    threads = [threading.Thread(target=other_call), threading.Thread(target=racing_call)]
    threads[0].start()
    assert stored.wait(10)
    threads[1].start()
    # The racing call's insert waits on the other call's uncommitted row with the same event id.
    assert _waiting_on_a_lock()
    release.set()
    for thread in threads:
        thread.join(10)

    assert (results["other"].accepted, results["other"].duplicates) == (1, 0)
    assert (results["racing"].accepted, results["racing"].duplicates) == (1, 1)
    assert sorted(Event.objects.values_list("event_id", flat=True)) == sorted([first["id"], second["id"]])
    assert Delivery.objects.count() == 2
