"""Ingest with payload filters: 10 subscriptions, each with a realistic filter, against the same run without them."""

import statistics

# What customers filter card events on. Every bench event (bench/load.py) passes all of them, so both sides store
# the same deliveries and the ratio is the matching's cost alone; the last names card response data, which the
# default export settings remove (its other branch passes).
REALISTIC_FILTERS = [
    {"cardContext.cardTemplateId": {"$in": ["card-7", "card-12", "card-31"]}},
    {"endUserId": {"$startsWith": "user-"}, "test": {"$neq": True}},
    {"$not": {"endUserId": {"$in": ["qa-1", "qa-2", "internal-bot"]}}},
    {"timestamp": {"$gte": "2026-01-01T00:00:00Z"}, "cardContext.cardInstanceId": {"$exist": True}},
    {"$or": [{"cardContext.cardTemplateId": "card-7"}, {"metadata.campaign": "spring"}]},
    {"eventName": "card-completed", "cardContext.cardInstanceStatus": {"$nin": ["cancelled", "expired"]}},
    {"sentAt": {"$gte": 0}, "metadata": {"$exist": True}},
    {"$and": [{"endUserId": {"$endsWith": "-42"}}, {"cardContext.cardTemplateId": {"$startsWith": "card-"}}]},
    {"metadata.note": {"$exist": True}, "requestPayload": {"$exist": False}},
    {"$or": [{"properties.values.rating": {"$gte": 4}}, {"cardContext.cardTemplateId": {"$neq": "card-99"}}]},
]
FILTERED = "10 subscriptions, filtered"
UNFILTERED = "10 subscriptions"


def filter_ratios(ingest: dict[str, list[dict]]) -> dict:
    """Filtered ÷ unfiltered cost per event, from the medians of the runs: by wall time (the inverse of events/s)
    and by web's CPU per event (where the matching runs)."""
    filtered, unfiltered = ingest[FILTERED], ingest[UNFILTERED]

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    return {
        "events_per_second": {
            "filtered": median(filtered, "events_per_second"),
            "unfiltered": median(unfiltered, "events_per_second"),
        },
        "web_cpu_ms_per_event": {
            "filtered": median(filtered, "web_cpu_ms_per_event"),
            "unfiltered": median(unfiltered, "web_cpu_ms_per_event"),
        },
        "wall_cost_ratio": median(unfiltered, "events_per_second") / median(filtered, "events_per_second"),
        "web_cpu_ratio": median(filtered, "web_cpu_ms_per_event") / median(unfiltered, "web_cpu_ms_per_event"),
    }
