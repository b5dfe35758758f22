"""The bench's scoring: medians over runs, percentiles, and the verdicts against the issues' targets."""

import pytest

from bench import report
from bench.latency import percentile


def test_a_median_counts_a_run_that_measured_nothing_as_the_worst():
    assert report.median_of([{"p95": 3.0}, {"p95": 1.0}, {"p95": 2.0}], "p95") == 2.0
    assert report.median_of([{"p95": 1.0}, {"p95": None}, {"p95": 2.0}], "p95") == 2.0
    assert report.median_of([{"p95": None}, {"p95": None}, {"p95": 2.0}], "p95") is None
    assert report.median_of([], "p95") is None


def test_percentiles_are_nearest_rank():
    values = [float(value) for value in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([7.0], 95) == 7.0


def _results(
    *, e2e: float, peer: float, dead_baseline_p95: float | None = 40.0, dead_ratio: float = 1.2, hot=None
) -> dict:
    return {
        "outflow": {
            "ingest_median": {report.TARGET_INGEST_FANOUT: report.TARGET_INGEST_EVENTS_PER_SECOND},
            "e2e_median": {"1 subscription": e2e},
            "e2e_workers_median": {"1 subscription": 2 * e2e},
            "latency_median": {"p95_ms": report.TARGET_P95_MS + 1},
            "mapping": {"available": False},
        },
        "peer": {"e2e_median": {"1 subscription": peer}, "e2e_workers_median": {"1 subscription": peer}},
        "scenarios": {"dead_endpoint": {"p95_ratio": dead_ratio, "baseline": {"p95_ms": dead_baseline_p95}}},
        "scale": {"hot_paths": hot} if hot else {},
    }


def _verdicts(results: dict) -> dict[str, bool | None]:
    return {target["name"]: target["met"] for target in report._targets(results)}


@pytest.mark.parametrize(
    ("times", "met"), [(report.TARGET_E2E_TIMES_PEER, True), (report.TARGET_E2E_TIMES_PEER - 0.01, False)]
)
def test_end_to_end_throughput_is_judged_as_a_multiple_of_the_peer_in_the_same_run(times, met):
    verdicts = _verdicts(_results(e2e=times * 100, peer=100))
    assert verdicts["e2e deliveries/s vs django-webhook, 1 subscription"] is met


def test_a_target_exactly_met_meets_and_one_just_missed_misses():
    verdicts = _verdicts(_results(e2e=1, peer=1))
    assert verdicts[f"ingest events/s, {report.TARGET_INGEST_FANOUT}"] is True
    assert verdicts["latency p95 ms at 200 events/s"] is False


def test_a_dead_endpoint_ratio_is_not_judged_when_its_baseline_did_not_keep_up():
    name = "healthy p95 with a dead endpoint / without"
    assert _verdicts(_results(e2e=1, peer=1))[name] is True
    assert _verdicts(_results(e2e=1, peer=1, dead_ratio=report.TARGET_DEAD_P95_RATIO + 0.1))[name] is False
    overloaded = _results(e2e=1, peer=1, dead_baseline_p95=report.DEAD_BASELINE_P95_LIMIT_MS + 1)
    assert _verdicts(overloaded)[name] is None
    assert _verdicts(_results(e2e=1, peer=1, dead_baseline_p95=None))[name] is None
    assert report._verdict(None) == "n/a" and report._verdict(False) == "MISSES"


def _hot_path_measures(claim_ms: float) -> dict:
    return {
        "ingest": {"p50_ms": 10.0, "p95_ms": 20.0},
        "claim": {"p50_ms": claim_ms},
        "sweep": {"p50_ms": 10.0},
        "deliveries_page": {"first": {"p50_ms": 10.0}, "deep": {"p50_ms": 10.0}},
        "request_log_page": {"first": {"p50_ms": 10.0}, "deep": {"p50_ms": 10.0}},
        "metrics": {"p50_ms": 10.0},
    }


def test_two_worker_processes_are_judged_against_the_peer_with_two_as_well():
    verdicts = _verdicts(_results(e2e=report.TARGET_E2E_TIMES_PEER * 50, peer=100))
    assert verdicts["e2e deliveries/s vs django-webhook, 1 subscription"] is False
    assert verdicts["e2e deliveries/s vs django-webhook, 1 subscription, 2 worker processes"] is True


def test_a_hot_path_is_judged_by_its_cost_full_over_empty():
    limit = report.TARGET_HOT_PATH_RATIO
    hot = {"empty": _hot_path_measures(10.0), "full": _hot_path_measures(10.0 * limit)}
    assert _verdicts(_results(e2e=1, peer=1, hot=hot))["hot path claim (a batch of 100), full / empty"] is True
    hot["full"] = _hot_path_measures(10.0 * limit + 0.1)
    assert _verdicts(_results(e2e=1, peer=1, hot=hot))["hot path claim (a batch of 100), full / empty"] is False


@pytest.mark.parametrize(("filtered_cpu_ms", "met"), [(1.2, True), (1.25, False)])
def test_ingest_with_filters_is_judged_by_its_web_cpu_per_event_over_the_same_run_without(filtered_cpu_ms, met):
    results = _results(e2e=1, peer=1)
    results["outflow"]["ingest"] = {
        "10 subscriptions": [{"events_per_second": 500, "web_cpu_ms_per_event": 1.0}],
        "10 subscriptions, filtered": [{"events_per_second": 450, "web_cpu_ms_per_event": filtered_cpu_ms}],
    }
    assert _verdicts(results)["ingest events/s, 10 subscriptions, filtered"] is met
