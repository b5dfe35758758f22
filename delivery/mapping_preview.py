"""The mapping preview: a draft script run on an example event, as a delivery would run it (an interactive call)."""

from delivery.outgoing import export_shaped
from delivery.samples import subscription_sample_event
from delivery.selectors import latest_matching_event
from mapping.sandbox import MappingError, mapping_run
from subscriptions.compiled_filters import subscription_filter_matcher
from subscriptions.models import Subscription
from subscriptions.selectors import export_settings_of
from tenancy.interactive_calls import interactive_call

IDENTITY = "return event;"


def mapping_preview(*, subscription: Subscription, script: str | None = None, event: dict | None = None) -> dict:
    """{example, output, skipped, error: {message, line} | None, logs, matches_filter}; the example is shaped by
    export settings, and `matches_filter` says whether it passes the subscription's saved filter (true without one).

    The example is the event given, else the latest event the subscription would receive, else a sample of its
    first event type. The script is the draft given, else the saved mapping, else one that returns the event.
    """
    with interactive_call(environment_id=subscription.environment_id):
        return _preview(subscription=subscription, script=script, event=event)


def _preview(*, subscription: Subscription, script: str | None, event: dict | None) -> dict:
    export = export_settings_of(environment=subscription.environment)
    if event is None:
        latest = latest_matching_event(subscription=subscription, include_test_events=export.include_test_events)
        if latest is not None:
            event = latest.payload
        else:
            event = subscription_sample_event(subscription=subscription)
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
