"""The Workbench's pages with a realistic environment: 100 subscriptions, 10,000 request log rows (and their events and
deliveries); each page's server time, the median of several loads, as a signed-in editor sees it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/outflow_workbench_bench .venv/bin/python manage.py migrate
    DATABASE_URL=… CACHE_URL=redis://… .venv/bin/python -m bench.workbench_pages [--loads 7]

Prints one JSON line: {"page": milliseconds, …}. It empties the database's environments first: use its own database.
"""

import argparse
import json
import os
import statistics
import time

import django

SUBSCRIPTIONS = 100
REQUEST_LOG_ROWS = 10_000


def seed():
    from delivery.ingest import events_ingest
    from delivery.models import Delivery
    from requestlog.models import RequestLog
    from subscriptions.services import subscription_create
    from tenancy.models import Environment
    from tenancy.services import environment_create, member_set

    Environment.objects.all().delete()
    environment, _ = environment_create(name="bench")
    subscriptions = [
        subscription_create(
            environment=environment,
            name=f"Receiver {index:03d}",
            event_types=["card-completed", "card-dismissed"],
            url=f"http://127.0.0.1:9/hooks/{index}",
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
    member, _ = member_set(environment=environment, username="bench-editor", role="editor")
    return member.user, subscriptions[0], deliveries[0][0]


def measure(loads: int) -> dict[str, float]:
    from django.test import Client

    user, subscription, delivery_id = seed()
    client = Client()
    client.force_login(user)
    base = f"/admin/subscriptions/subscription/{subscription.pk}"
    pages = {
        "subscriptions": "/admin/subscriptions/subscription/",
        "subscription": f"{base}/change/",
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
        "delivery": f"/admin/delivery/delivery/{delivery_id}/change/",
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
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(json.dumps(measure(arguments.loads)))


if __name__ == "__main__":
    main()
