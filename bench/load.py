"""Load through Outflow's public ingest API: ~1 KiB events with unique ids, posted in batches, flat out or paced."""

import json
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.api import OutflowApi

EVENT_BYTES = 1024
BATCH_SIZE = 100
INGEST_CONNECTIONS = 8


def event(*, event_id: str, sent_at: float = 0.0) -> dict:
    """An event as tests/factories.py builds one, with its send time, padded by a kept field to EVENT_BYTES."""
    payload = {
        "id": event_id,
        "eventName": "card-completed",
        "timestamp": "2026-11-28T10:00:00Z",
        "endUserId": "user-42",
        "cardContext": {"cardInstanceId": "ci-1", "cardTemplateId": "card-7"},
        "properties": {"values": {"rating": 5}},
        "sentAt": sent_at,
        "metadata": {"note": ""},
    }
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    payload["metadata"]["note"] = "x" * max(0, EVENT_BYTES - size)
    return payload


def batch_bodies(*, prefix: str, count: int, batch_size: int = BATCH_SIZE) -> list[bytes]:
    """Pre-encoded `{"events": [...]}` bodies, so the sender spends its time sending."""
    bodies = []
    for start in range(0, count, batch_size):
        events = [event(event_id=f"{prefix}-{n}") for n in range(start, min(start + batch_size, count))]
        bodies.append(json.dumps({"events": events}, separators=(",", ":")).encode())
    return bodies


def post_all(api: OutflowApi, bodies: list[bytes], *, connections: int = INGEST_CONNECTIONS) -> float:
    """Post every body as fast as the API takes them over a few keep-alive connections; the seconds it took."""
    pending: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        pending.put(body)
    errors: list[BaseException] = []

    def sender():
        try:
            while True:
                try:
                    body = pending.get_nowait()
                except queue.Empty:
                    return
                api.events_post(body)
        except BaseException as error:
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=sender, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.monotonic() - started


@dataclass(frozen=True)
class PacedLoad:
    sent: int
    seconds: float
    late_batches: int  # batches that left more than one interval after their slot (the sender fell behind)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def post_paced(api: OutflowApi, *, prefix: str, rate: float, seconds: float, batch_size: int) -> PacedLoad:
    """rate events/s for `seconds`, as batches of batch_size on a fixed schedule; each event carries its sentAt."""
    interval = batch_size / rate
    slots = int(seconds / interval)
    late = 0
    lock = threading.Lock()

    def send(slot: int, due: float):
        nonlocal late
        now = time.time()
        if now - due > interval:
            with lock:
                late += 1
        events = [event(event_id=f"{prefix}-{slot}-{n}", sent_at=time.time()) for n in range(batch_size)]
        api.events_post(json.dumps({"events": events}, separators=(",", ":")).encode())

    started = time.time()
    with ThreadPoolExecutor(max_workers=INGEST_CONNECTIONS) as pool:
        futures = []
        for slot in range(slots):
            due = started + slot * interval
            time.sleep(max(0.0, due - time.time()))
            futures.append(pool.submit(send, slot, due))
        for future in futures:
            future.result()
    return PacedLoad(sent=slots * batch_size, seconds=time.time() - started, late_batches=late)
