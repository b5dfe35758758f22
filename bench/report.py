"""The results of a bench run: medians, the targets of issue #6, a printed table, a JSON file and a latency plot."""

import json
import math
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIB = 1024 * 1024
TARGET_INGEST_EVENTS_PER_SECOND = 3000
TARGET_INGEST_FANOUT = "1 subscription"  # the issue sets the ingest target with one subscription per event
TARGET_E2E_TIMES_PEER = 10
TARGET_P95_MS = 50
TARGET_RETRY_GROWTH_BYTES = 10 * MIB  # "does not grow": within this much of sampling noise
TARGET_DEAD_P95_RATIO = 2
TARGET_MAPPING_MS = 0.3  # issue #11: per delivery, in the batches a worker maps
# A baseline slower than this is not keeping up with its load: a ratio against it would say nothing.
DEAD_BASELINE_P95_LIMIT_MS = 1000


def median_of(runs: list[dict], key: str) -> float | None:
    """Median over runs of one number; a run where it is missing (None) counts as the worst (for p-latencies)."""
    values = [run[key] for run in runs]
    if any(value is None for value in values):
        values = [math.inf if value is None else value for value in values]
    if not values:
        return None
    value = statistics.median(values)
    return None if math.isinf(value) else value


def summarize(results: dict) -> dict:
    """Add the medians and the targets' verdicts to the raw runs."""
    outflow, peer = results["outflow"], results["peer"]
    for fanout, runs in outflow["ingest"].items():
        outflow["ingest_median"][fanout] = median_of(runs, "events_per_second")
    for fanout, runs in outflow["e2e"].items():
        outflow["e2e_median"][fanout] = median_of(runs, "deliveries_per_second")
        outflow["worker_peak_rss_median"][fanout] = median_of(runs, "worker_peak_rss_bytes")
    for fanout, runs in peer["e2e"].items():
        peer["e2e_median"][fanout] = median_of(runs, "deliveries_per_second")
        peer["worker_peak_rss_median"][fanout] = median_of(runs, "worker_peak_rss_bytes")
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        outflow["latency_median"][q] = median_of(outflow["latency"], q)
    ceiling = results["ceiling"]
    ceiling["median_requests_per_second"] = median_of(ceiling["runs"], "requests_per_second")
    results["targets"] = _targets(results)
    return results


def _target(name: str, value, goal: str, met: bool | None) -> dict:
    return {"name": name, "value": value, "target": goal, "met": met}


def _targets(results: dict) -> list[dict]:
    outflow, peer, scenarios = results["outflow"], results["peer"], results["scenarios"]
    targets = []
    value = outflow["ingest_median"].get(TARGET_INGEST_FANOUT)
    targets.append(
        _target(
            f"ingest events/s, {TARGET_INGEST_FANOUT}",
            value,
            f">= {TARGET_INGEST_EVENTS_PER_SECOND}",
            value is not None and value >= TARGET_INGEST_EVENTS_PER_SECOND,
        )
    )
    for fanout, value in outflow["e2e_median"].items():
        peer_value = peer["e2e_median"].get(fanout)
        times = value / peer_value if value and peer_value else None
        targets.append(
            _target(
                f"e2e deliveries/s vs django-webhook, {fanout}",
                times,
                f">= {TARGET_E2E_TIMES_PEER}x",
                times is not None and times >= TARGET_E2E_TIMES_PEER,
            )
        )
    p95 = outflow["latency_median"]["p95_ms"]
    targets.append(
        _target("latency p95 ms at 200 events/s", p95, f"<= {TARGET_P95_MS}", p95 is not None and p95 <= TARGET_P95_MS)
    )
    retry = scenarios.get("retry_memory")
    if retry:
        growth = retry["growth_bytes"]
        targets.append(
            _target(
                f"worker RSS growth with {retry['deliveries']} deliveries waiting for retry (bytes)",
                growth,
                f"<= {TARGET_RETRY_GROWTH_BYTES // MIB} MiB",
                growth <= TARGET_RETRY_GROWTH_BYTES,
            )
        )
    mapping = outflow["mapping"]
    if mapping.get("available"):
        value = mapping["median_ms"]
        targets.append(
            _target(
                "JavaScript mapping ms per delivery",
                value,
                f"<= {TARGET_MAPPING_MS}",
                value <= TARGET_MAPPING_MS,
            )
        )
    dead = scenarios.get("dead_endpoint")
    if dead:
        ratio, baseline = dead["p95_ratio"], dead["baseline"]["p95_ms"]
        overloaded = baseline is None or baseline > DEAD_BASELINE_P95_LIMIT_MS
        targets.append(
            _target(
                "healthy p95 with a dead endpoint / without",
                ratio,
                f"<= {TARGET_DEAD_P95_RATIO}x",
                None if overloaded else ratio is not None and ratio <= TARGET_DEAD_P95_RATIO,
            )
        )
    return targets


def _number(value, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{unit}"


def _mib(value) -> str:
    return _number(value / MIB if value is not None else None, " MiB", 1)


def _verdict(met: bool | None) -> str:
    """None: the measure could not be judged (for the dead endpoint: its baseline did not keep up)."""
    return "n/a" if met is None else "meets" if met else "MISSES"


def table(results: dict) -> str:
    meta, outflow, peer = results["meta"], results["outflow"], results["peer"]
    ceiling = results["ceiling"]["median_requests_per_second"]
    rows = [("measure (median of runs)", "Outflow", "django-webhook", "raw ceiling", "target")]
    targets = {target["name"]: target for target in results["targets"]}
    for fanout, value in outflow["ingest_median"].items():
        target = targets.get(f"ingest events/s, {fanout}")
        goal = f"{target['target']}: {_verdict(target['met'])}" if target else ""
        rows.append((f"ingest events/s, {fanout}", _number(value), "", "", goal))
    for fanout, value in outflow["e2e_median"].items():
        target = targets[f"e2e deliveries/s vs django-webhook, {fanout}"]
        times = _number(target["value"], "x", 1)
        rows.append(
            (
                f"e2e deliveries/s, {fanout}",
                _number(value),
                _number(peer["e2e_median"].get(fanout)),
                _number(ceiling),
                f"{target['target']} peer ({times}): {_verdict(target['met'])}",
            )
        )
    latency = outflow["latency_median"]
    target = targets["latency p95 ms at 200 events/s"]
    rows.append(
        (
            f"latency p50/p95/p99 ms at {meta['profile']['latency_rate']:g} events/s",
            " / ".join(_number(latency[q], "", 1) for q in ("p50_ms", "p95_ms", "p99_ms")),
            "",
            "",
            f"p95 {target['target']}: {_verdict(target['met'])}",
        )
    )
    for fanout, value in outflow["worker_peak_rss_median"].items():
        rows.append(
            (
                f"worker peak RSS during e2e, {fanout}",
                _mib(value),
                _mib(peer["worker_peak_rss_median"].get(fanout)),
                "",
                "",
            )
        )
    mapping = outflow["mapping"]
    target = targets.get("JavaScript mapping ms per delivery")
    rows.append(
        (
            f"JavaScript mapping per delivery (ms), batches of {mapping.get('batch', '?')}",
            _number(mapping.get("median_ms"), "", 3) if mapping.get("available") else "n/a",
            "",
            "",
            (f"{target['target']}: {_verdict(target['met'])}" if target else "")
            + ("" if mapping.get("exited_by_itself", True) else " (its process did not exit by itself)"),
        )
    )
    if mapping.get("available"):
        rows.append(
            ("JavaScript mapping of one event alone (ms)", _number(mapping["single_median_ms"], "", 3), "", "", "")
        )
    retry = results["scenarios"].get("retry_memory")
    if retry:
        target = targets[f"worker RSS growth with {retry['deliveries']} deliveries waiting for retry (bytes)"]
        rows.append(
            (
                f"worker RSS {_mib(retry['worker_rss_before_bytes'])} -> {_mib(retry['worker_rss_peak_after_bytes'])}"
                f" with {retry['deliveries']:,} retrying",
                f"{'+' if retry['growth_bytes'] >= 0 else ''}{_mib(retry['growth_bytes'])}",
                "",
                "",
                f"growth {target['target']}: {_verdict(target['met'])}",
            )
        )
    dead = results["scenarios"].get("dead_endpoint")
    if dead:
        target = targets["healthy p95 with a dead endpoint / without"]
        baseline, with_dead = dead["baseline"]["p95_ms"], dead["with_dead_endpoint"]["p95_ms"]
        rows.append(
            (
                f"healthy p95 ms, 9 of 10 subs, {meta['profile']['dead_rate']:g} events/s: without / with a dead one",
                f"{_number(baseline, '', 1)} / {_number(with_dead, '', 1)} ({_number(dead['p95_ratio'], 'x', 1)})",
                "",
                "",
                f"{target['target']}: {_verdict(target['met'])}"
                + (f" (baseline p95 over {DEAD_BASELINE_P95_LIMIT_MS} ms)" if target["met"] is None else ""),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        f"Outflow bench — {meta['cpus']} CPUs, receiver {meta['receiver']}, {meta['profile']['runs']} run(s) per "
        f"measure, {meta['profile']['ingest_events']:,} events per ingest run, "
        f"{meta['profile']['e2e_deliveries']:,} deliveries per e2e run"
    ]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _quantiles(values: list[float]) -> list[float]:
    """101 points: the 0th to the 100th percentile (nearest rank), enough to redraw a distribution."""
    if not values:
        return []
    return [round(values[min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))], 3) for q in range(101)]


def _compact(value):
    """The results with each list of raw latencies replaced by its 101 quantiles."""
    if isinstance(value, dict):
        return {
            ("latency_quantiles_ms" if key == "latencies_ms" else key): (
                _quantiles(item) if key == "latencies_ms" else _compact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def write_json(results: dict, path: Path) -> None:
    path.write_text(json.dumps(_compact(results), indent=2) + "\n")


def _cdf(axis, run: dict, label: str) -> None:
    """Fraction of the expected deliveries arrived by each latency: missing deliveries keep it below 1."""
    values, expected = run["latencies_ms"], run["deliveries_expected"]
    if values:
        axis.step(values, [(n + 1) / expected for n in range(len(values))], where="post", label=label)


def plot(results: dict, path: Path) -> None:
    """Left: ingest-to-arrival latency at the paced rate, one histogram per run. Right: the dead-endpoint CDFs."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    profile = results["meta"]["profile"]
    runs = results["outflow"]["latency"]
    everything = [value for run in runs for value in run["latencies_ms"]]
    if everything:
        low, high = max(min(everything), 0.1), max(everything)
        bins = [low * (high / low) ** (n / 60) for n in range(61)] if high > low else 10
        for n, run in enumerate(runs, 1):
            left.hist(
                run["latencies_ms"],
                bins=bins,
                histtype="step",
                label=f"run {n} ({len(run['latencies_ms'])} deliveries)",
            )
        left.set_xscale("log")
    for q, style in (("p50_ms", ":"), ("p95_ms", "--"), ("p99_ms", "-.")):
        value = results["outflow"]["latency_median"][q]
        if value is not None:
            left.axvline(
                value, color="black", linestyle=style, linewidth=1, label=f"{q[:3]} {value:.1f} ms (median of runs)"
            )
    left.axvline(TARGET_P95_MS, color="red", linewidth=1, label=f"p95 target {TARGET_P95_MS} ms")
    left.set_title(f"Ingest to arrival, {profile['latency_rate']:g} events/s, 1 subscription")
    left.set_xlabel("latency (ms, log scale)")
    left.set_ylabel("deliveries")
    left.legend(fontsize=8)
    dead = results["scenarios"].get("dead_endpoint")
    if dead:
        _cdf(right, dead["baseline"], "9 healthy + 1 healthy")
        _cdf(right, dead["with_dead_endpoint"], "9 healthy + 1 dead (connect timeouts)")
        right.axhline(0.95, color="grey", linewidth=0.8, linestyle="--")
        right.set_xscale("log")
        right.legend(fontsize=8)
    right.set_title(f"Healthy subscriptions' latency, {profile['dead_rate']:g} events/s x 10 subscriptions")
    right.set_xlabel("latency (ms, log scale)")
    right.set_ylabel("fraction of the 9 healthy ones' deliveries arrived")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
