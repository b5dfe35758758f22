"""The results of a bench run: medians, the targets of issues #6 and #14, a printed table, a JSON file and a plot."""

import json
import math
import statistics
from pathlib import Path

import matplotlib

from bench.filters import FILTERED, filter_ratios

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIB = 1024 * 1024
TARGET_INGEST_EVENTS_PER_SECOND = 3000
TARGET_INGEST_FANOUT = "1 subscription"  # the issue sets the ingest target with one subscription per event
TARGET_E2E_TIMES_PEER = 20  # issue #14 (was 10, issue #6)
TARGET_HOT_PATH_RATIO = 1.5  # issue #14: a hot path with the tables full costs at most this times it empty
TARGET_P95_MS = 50
TARGET_RETRY_GROWTH_BYTES = 10 * MIB  # "does not grow": within this much of sampling noise
TARGET_DEAD_P95_RATIO = 2
TARGET_MAPPING_MS = 0.3  # issue #11: per delivery, in the batches a worker maps
TARGET_FILTER_COST_RATIO = 1.2  # issue #27: ingest's cost per event with 10 filtered subscriptions ÷ without filters
# (label, path into bench.hot_paths' measures): the median of each, but ingest's p95 too.
HOT_PATHS = {
    "ingest p50": ("ingest", "p50_ms"),
    "ingest p95": ("ingest", "p95_ms"),
    "claim (a batch of 100)": ("claim", "p50_ms"),
    "sweep (100 due, 1 subscription woken)": ("sweep", "p50_ms"),
    "deliveries page, first": ("deliveries_page", "first", "p50_ms"),
    "deliveries page, deep cursor": ("deliveries_page", "deep", "p50_ms"),
    "request log page, first": ("request_log_page", "first", "p50_ms"),
    "request log page, deep cursor": ("request_log_page", "deep", "p50_ms"),
    "/metrics": ("metrics", "p50_ms"),
}
PER_DELIVERY = {
    "worker_cpu_ms": ("worker CPU ms", 2),
    "web_cpu_ms": ("web CPU ms", 2),
    "postgres_cpu_ms": ("PostgreSQL server CPU ms (all its clients)", 2),
    "redis_cpu_ms": ("Redis server CPU ms (all its clients)", 2),
    "commits": ("PostgreSQL commits", 2),
    "rows_written": ("PostgreSQL rows written", 1),
    "redis_commands": ("Redis commands (whole server)", 1),
}
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


def hot_ms(measures: dict, label: str) -> float:
    value = measures
    for key in HOT_PATHS[label]:
        value = value[key]
    return value


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
    for side in (outflow, peer):
        side["e2e_workers_median"] = {
            fanout: median_of(runs, "deliveries_per_second") for fanout, runs in side["e2e_workers"].items()
        }
    outflow["per_delivery_median"] = {
        processes: {
            fanout: {key: median_of([run["per_delivery"] for run in runs], key) for key in PER_DELIVERY}
            for fanout, runs in outflow[field].items()
        }
        for processes, field in (("1", "e2e"), ("2", "e2e_workers"))
    }
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
    if FILTERED in outflow.get("ingest", {}):
        ratio = filter_ratios(outflow["ingest"])["web_cpu_ratio"]
        targets.append(
            _target(
                f"ingest events/s, {FILTERED}",
                ratio,
                f"web CPU per event <= {TARGET_FILTER_COST_RATIO}x unfiltered ({ratio:.2f}x)",
                ratio <= TARGET_FILTER_COST_RATIO,
            )
        )
    value = outflow["ingest_median"].get(TARGET_INGEST_FANOUT)
    targets.append(
        _target(
            f"ingest events/s, {TARGET_INGEST_FANOUT}",
            value,
            f">= {TARGET_INGEST_EVENTS_PER_SECOND}",
            value is not None and value >= TARGET_INGEST_EVENTS_PER_SECOND,
        )
    )
    for field, processes in (("e2e_median", ""), ("e2e_workers_median", ", 2 worker processes")):
        for fanout, value in outflow[field].items():
            peer_value = peer[field].get(fanout)
            times = value / peer_value if value and peer_value else None
            targets.append(
                _target(
                    f"e2e deliveries/s vs django-webhook, {fanout}{processes}",
                    times,
                    f">= {TARGET_E2E_TIMES_PEER}x",
                    times is not None and times >= TARGET_E2E_TIMES_PEER,
                )
            )
    hot = results.get("scale", {}).get("hot_paths")
    for label in HOT_PATHS if hot else ():
        empty, full = hot_ms(hot["empty"], label), hot_ms(hot["full"], label)
        ratio = full / empty if empty else None
        targets.append(
            _target(
                f"hot path {label}, full / empty",
                ratio,
                f"<= {TARGET_HOT_PATH_RATIO}x",
                ratio is not None and ratio <= TARGET_HOT_PATH_RATIO,
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
    for fanout, value in outflow["e2e_workers_median"].items():
        target = targets[f"e2e deliveries/s vs django-webhook, {fanout}, 2 worker processes"]
        rows.append(
            (
                f"e2e deliveries/s, {fanout}, 2 worker processes",
                _number(value),
                _number(peer["e2e_workers_median"].get(fanout)),
                "",
                f"{target['target']} peer ({_number(target['value'], 'x', 1)}): {_verdict(target['met'])}",
            )
        )
    for fanout, value in outflow["e2e_workers_median"].items():
        one, peer_one, peer_two = (
            outflow["e2e_median"].get(fanout),
            peer["e2e_median"].get(fanout),
            peer["e2e_workers_median"].get(fanout),
        )
        rows.append(
            (
                f"e2e 2 worker processes / 1, {fanout}",
                _number(value / one if value and one else None, "x", 2),
                _number(peer_two / peer_one if peer_two and peer_one else None, "x", 2),
                "",
                "",
            )
        )
    for processes, by_fanout in outflow["per_delivery_median"].items():
        costs = by_fanout.get(TARGET_INGEST_FANOUT, {})
        for key, (label, digits) in PER_DELIVERY.items():
            rows.append(
                (
                    f"per delivery, e2e {TARGET_INGEST_FANOUT}, {processes} worker process(es): {label}",
                    _number(costs.get(key), "", digits),
                    "",
                    "",
                    "",
                )
            )
    scale = results.get("scale")
    if scale:
        hot = scale["hot_paths"]
        # The empty side holds a few pages of finished rows (bench.hot_paths.SEED_ROWS), so its pages are full too.
        empty = f"empty ({hot['seed_rows']:,} rows)" if hot.get("seed_rows") else "empty"
        for label in HOT_PATHS:
            target = targets[f"hot path {label}, full / empty"]
            rows.append(
                (
                    f"{label} ms: {empty} / {hot['rows']:,} rows",
                    f"{_number(hot_ms(hot['empty'], label), '', 1)} / {_number(hot_ms(hot['full'], label), '', 1)}"
                    f" ({_number(target['value'], 'x', 2)})",
                    "",
                    "",
                    f"{target['target']}: {_verdict(target['met'])}",
                )
            )
        purge = hot["purge"]
        removed = purge["events"] + purge["deliveries"] + purge["request_logs"]
        rows.append(
            (
                f"purge of the oldest day ({removed:,} rows) rows/s",
                _number(purge["rows_per_second"]),
                "",
                "",
                "",
            )
        )
        before, during = purge["ingest_before"], purge["ingest_during"]
        rows.append(
            (
                "ingest of 1 event p50/p95 ms: before / during the purge",
                f"{_number(before.get('p50_ms'), '', 1)}/{_number(before.get('p95_ms'), '', 1)} /"
                f" {_number(during.get('p50_ms'), '', 1)}/{_number(during.get('p95_ms'), '', 1)}",
                "",
                "",
                "",
            )
        )
        recover = scale["recover"]
        rows.append(
            (
                f"recover of {recover['deliveries']:,}: API answer ms / all pending again s",
                f"{_number(recover['answer_ms'], '', 0)} / {_number(recover['requeue_seconds'], '', 1)}"
                f" ({_number(recover['deliveries_per_second'])}/s)",
                "",
                "",
                "" if recover["finished"] else "did not finish",
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
        f"{meta['profile']['e2e_deliveries']:,} deliveries per e2e run; e2e and per-delivery rows with 1 worker"
        " process unless they say 2"
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
