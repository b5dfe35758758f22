"""The mapping preview and check: a draft script run on example events, as a delivery would run it (interactive
calls)."""

from delivery.outgoing import export_shaped
from delivery.samples import sample_event, subscription_sample_event
from delivery.selectors import latest_matching_event
from mapping.sandbox import MappingError, mapping_run
from subscriptions.compiled_filters import subscription_filter_matcher
from subscriptions.models import ExportSettings, Subscription
from subscriptions.selectors import export_settings_of
from tenancy.interactive_calls import interactive_call

IDENTITY = "return event;"


def mapping_preview(
    *, subscription: Subscription, script: str | None = None, event: dict | None = None, event_type: str | None = None
) -> dict:
    """{example, source, output, skipped, error: {message, line} | None, logs, matches_filter}; the example is shaped
    by export settings, and `matches_filter` says whether it passes the subscription's saved filter (true without one).

    The example is the event given (source "given"); else the latest event of `event_type`, or, without one, the
    latest the subscription would receive (source "latest"); else the catalog's example of that type or of the
    subscription's first type (source "example"). The script is the draft given, else the saved mapping, else one
    that returns the event.
    """
    with interactive_call(environment_id=subscription.environment_id):
        export = export_settings_of(environment=subscription.environment)
        source = "given"
        if event is None:
            event, source = _example_event(subscription=subscription, export=export, event_type=event_type)
        return {"source": source, **_run(subscription=subscription, script=script, event=event, export=export)}


def mapping_check(*, subscription: Subscription, script: str | None = None) -> list[dict]:
    """The draft run on the catalog example and on the latest real event of each of the subscription's event types:
    [{event_type, source: "example" | "latest", event_id, output, error}], in the order of the types' names."""
    with interactive_call(environment_id=subscription.environment_id):
        export = export_settings_of(environment=subscription.environment)
        results = []
        for name in subscription.event_types.order_by("name").values_list("name", flat=True):
            examples = [("example", sample_event(event_name=name, card=subscription.card))]
            latest = latest_matching_event(
                subscription=subscription, include_test_events=export.include_test_events, event_type=name
            )
            if latest is not None:
                examples.append(("latest", latest.payload))
            for source, event in examples:
                run = _run(subscription=subscription, script=script, event=event, export=export)
                results.append(
                    {
                        "event_type": name,
                        "source": source,
                        "event_id": event.get("id"),
                        "output": run["output"],
                        "error": run["error"],
                    }
                )
        return results


def _example_event(*, subscription: Subscription, export: ExportSettings, event_type: str | None) -> tuple[dict, str]:
    latest = latest_matching_event(
        subscription=subscription, include_test_events=export.include_test_events, event_type=event_type
    )
    if latest is not None:
        return latest.payload, "latest"
    if event_type is not None:
        return sample_event(event_name=event_type, card=subscription.card), "example"
    return subscription_sample_event(subscription=subscription), "example"


def _run(*, subscription: Subscription, script: str | None, event: dict, export: ExportSettings) -> dict:
    example = export_shaped(payload=event, export=export)
    matcher = subscription_filter_matcher(subscription)
    matches_filter = matcher is None or matcher(example)
    script = script if script is not None else subscription.mapping or IDENTITY
    try:
        result = mapping_run(script=script, event=example, environment_id=subscription.environment_id)
    except MappingError as error:
        return {
            "example": example,
            "output": None,
            "skipped": False,
            "error": {"message": error.message, "line": error.line},
            "logs": error.logs,
            "matches_filter": matches_filter,
        }
    return {
        "example": example,
        "output": result.output,
        "skipped": result.skipped,
        "error": None,
        "logs": result.logs,
        "matches_filter": matches_filter,
    }
