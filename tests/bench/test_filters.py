"""The bench's payload filters: valid as saved, each passing every bench event (so both sides store the same
deliveries), and the ratios read the right way round."""

from django.conf import settings

from bench.filters import FILTERED, REALISTIC_FILTERS, UNFILTERED, filter_ratios
from bench.load import event
from delivery.shaping import shaped_event
from subscriptions.payload_filters import FilterLimits, filter_compile
from subscriptions.services import filter_errors


def test_the_realistic_filters_are_valid_and_pass_the_bench_event_as_export_settings_leave_it():
    shaped = shaped_event(event(event_id="b-1"), include_request_payload=False, include_card_response_data=False)
    limits = FilterLimits(
        max_bytes=settings.OUTFLOW_FILTER_MAX_BYTES,
        max_depth=settings.OUTFLOW_FILTER_MAX_DEPTH,
        max_paths=settings.OUTFLOW_FILTER_MAX_PATHS,
    )
    assert len(REALISTIC_FILTERS) == 10
    for spec in REALISTIC_FILTERS:
        assert filter_errors(spec) == [], spec
        assert filter_compile(spec, limits=limits)(shaped), spec


def test_ratios_are_filtered_cost_over_unfiltered_cost():
    runs = {
        UNFILTERED: [{"events_per_second": 1000, "web_cpu_ms_per_event": 1.0}] * 3,
        FILTERED: [{"events_per_second": 800, "web_cpu_ms_per_event": 1.1}] * 3,
    }
    ratios = filter_ratios(runs)
    assert ratios["wall_cost_ratio"] == 1.25
    assert round(ratios["web_cpu_ratio"], 6) == 1.1
