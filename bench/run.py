"""Orchestration of a bench run: start everything, measure phase by phase, report, and stop everything, always.

`python -m bench [--smoke] [--runs N] [--events N] [--deliveries N] [--receiver auto|nginx|python]`
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench import report
from bench.databases import database_drop, redis_flush
from bench.environment import (
    BROKER_URL,
    CACHE_URL,
    DATABASE,
    PEER_BROKER_URL,
    PEER_DATABASE,
    REQUEST_TIMEOUT_SECONDS,
    RESULTS_DIR,
    SWEEP_INTERVAL_SECONDS,
    WEB_CONCURRENCY,
    WORKER_CONCURRENCY,
)
from bench.filters import FILTERED, REALISTIC_FILTERS, UNFILTERED, filter_ratios
from bench.hot_paths import recover_scenario
from bench.latency import dead_endpoint_scenario, latency_run
from bench.memory import PeakSampler
from bench.outflow import OutflowStack
from bench.peer_stack import PeerStack
from bench.processes import Processes, poll_until
from bench.receiver import Receiver, receiver_start
from bench.retry_memory import retry_memory_scenario
from bench.throughput import e2e_run, ingest_run, subscriptions_create

FANOUTS = {"1 subscription": 1, "10 subscriptions": 10}
# Ingest runs: label → (subscriptions, their filters). The runs of each label alternate with the others'.
INGEST_RUNS = {"1 subscription": (1, None), UNFILTERED: (10, None), FILTERED: (10, REALISTIC_FILTERS)}
# The end-to-end runs are made with one worker process (the Procfile's), then with two (the machine has 2 cores).
WORKER_PROCESSES = 2
WORKER_READY_SECONDS = 5
WARMUP_EVENTS = 100
MAPPING_TIMEOUT_SECONDS = 60
MAPPING_EXIT_SECONDS = 2


@dataclass(frozen=True)
class Profile:
    runs: int
    ingest_events: int  # events per ingest run
    e2e_deliveries: int  # deliveries per end-to-end run (events = deliveries / subscriptions), Outflow and peer
    e2e_timeout: float  # an end-to-end run that has not finished by then is counted as it stands
    latency_rate: float
    latency_seconds: float
    dead_rate: float  # events/s, each to 10 subscriptions
    dead_seconds: float
    drain_seconds: float  # how long a paced run waits after its last event for deliveries still on their way
    retrying_deliveries: int
    retrying_sweeps: int  # sweep cycles watched after inserting them
    ceiling_requests: int
    ceiling_seconds: float
    stats_wait_seconds: float  # after an e2e run, for PostgreSQL's statistics of idle backends (flushed within 10 s)
    hot_rows: int  # finished deliveries (and events, request log rows) the hot paths are measured on
    hot_repeats: int  # calls per hot path measure
    purge_baseline_seconds: float
    recover_deliveries: int
    max_seconds: int  # the whole run is stopped past this, whatever it is doing


FULL = Profile(
    runs=3,
    ingest_events=20000,
    e2e_deliveries=4000,
    e2e_timeout=60,
    latency_rate=200,
    latency_seconds=30,
    dead_rate=10,
    dead_seconds=15,
    drain_seconds=30,
    retrying_deliveries=100_000,
    retrying_sweeps=3,
    ceiling_requests=20000,
    ceiling_seconds=10,
    stats_wait_seconds=11,
    hot_rows=10_000_000,
    hot_repeats=40,
    purge_baseline_seconds=5,
    recover_deliveries=100_000,
    max_seconds=5400,
)
SMOKE = Profile(
    runs=1,
    ingest_events=300,
    e2e_deliveries=300,
    e2e_timeout=20,
    latency_rate=200,
    latency_seconds=3,
    dead_rate=10,
    dead_seconds=3,
    drain_seconds=10,
    retrying_deliveries=2000,
    retrying_sweeps=1,
    ceiling_requests=2000,
    ceiling_seconds=2,
    stats_wait_seconds=0,
    hot_rows=20_000,
    hot_repeats=8,
    purge_baseline_seconds=1,
    recover_deliveries=1000,
    max_seconds=240,
)


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class Stopped(BaseException):
    """A signal (or the run's time limit) asked the bench to stop: unwind and clean up."""


def _stop(signum, frame):
    raise Stopped(signal.Signals(signum).name)


def parse_arguments(argv: list[str] | None) -> tuple[argparse.Namespace, Profile]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run (< 60 s) that proves the harness works")
    parser.add_argument("--runs", type=int, help="runs per measure (median taken)")
    parser.add_argument("--events", type=int, help="events per ingest run")
    parser.add_argument("--deliveries", type=int, help="deliveries per end-to-end run, Outflow's and the peer's")
    parser.add_argument("--rows", type=int, help="finished deliveries the hot paths are measured on")
    parser.add_argument("--receiver", choices=("auto", "nginx", "python"), default="auto")
    parser.add_argument("--output", type=Path, help="where latest.json and latency.png go")
    parser.add_argument(
        "--e2e-only",
        action="store_true",
        help="only Outflow's end-to-end runs with 1 and 2 worker processes (no peer): e2e.json, to compare versions",
    )
    parser.add_argument(
        "--filters-only",
        action="store_true",
        help="only ingest with 10 subscriptions with and without payload filters, alternating: filters.json",
    )
    parser.add_argument(
        "--hot-paths-only",
        action="store_true",
        help="only the hot paths empty vs --rows (then the purge and recover): their lines, and hot_paths.json",
    )
    arguments = parser.parse_args(argv)
    profile = SMOKE if arguments.smoke else FULL
    for field, value in (("runs", arguments.runs), ("ingest_events", arguments.events)):
        if value is not None:
            profile = replace(profile, **{field: value})
    if arguments.rows is not None:
        profile = replace(profile, hot_rows=arguments.rows)
    if arguments.deliveries is not None:
        profile = replace(profile, e2e_deliveries=arguments.deliveries)
    if arguments.output is None:
        arguments.output = RESULTS_DIR / "smoke" if arguments.smoke else RESULTS_DIR
    return arguments, profile


def measure_outflow(stack: OutflowStack, receiver: Receiver, sampler: PeakSampler, profile: Profile) -> dict:
    results = {
        "ingest": {},
        "e2e": {},
        "latency": [],
        "ingest_median": {},
        "e2e_median": {},
        "worker_peak_rss_median": {},
        "latency_median": {},
    }
    _warm_up(stack, receiver, sampler)
    results["ingest"] = measure_ingest(stack, receiver, profile, INGEST_RUNS)
    results.update(measure_e2e(stack, receiver, sampler, profile))
    for run in range(1, profile.runs + 1):
        results["latency"].append(
            latency_run(
                stack,
                receiver,
                tag=f"latency-{run}",
                urls=[receiver.url(f"/outflow/latency-{run}/0")],
                measured=1,
                rate=profile.latency_rate,
                seconds=profile.latency_seconds,
                drain_seconds=profile.drain_seconds,
            )
        )
        latest = results["latency"][-1]
        log(
            f"latency, run {run}: p50 {latest['p50_ms']} ms, p95 {latest['p95_ms']} ms, p99 {latest['p99_ms']} ms,"
            f" {latest['missing']} missing, {latest['rate_achieved']:.0f} events/s sent"
        )
    return results


def measure_ingest(stack: OutflowStack, receiver: Receiver, profile: Profile, labels: dict) -> dict[str, list]:
    """Ingest runs of each label (subscriptions, filters), run 1 of every label, then run 2, ...: back to back."""
    ingest: dict[str, list] = {label: [] for label in labels}
    for run in range(1, profile.runs + 1):
        for n, (label, (fanout, filters)) in enumerate(labels.items()):
            result = ingest_run(
                stack, receiver, tag=f"ingest-{n}-{run}", fanout=fanout, events=profile.ingest_events, filters=filters
            )
            ingest[label].append(result)
            log(
                f"ingest, {label}, run {run}: {result['events_per_second']:.0f} events/s,"
                f" web {result['web_cpu_ms_per_event']:.3f} ms CPU per event"
            )
    return ingest


def measure_filters(stack: OutflowStack, receiver: Receiver, sampler: PeakSampler, profile: Profile) -> dict:
    """Ingest with 10 subscriptions, without and with realistic payload filters, alternating; the cost ratios."""
    _warm_up(stack, receiver, sampler)
    labels = {label: INGEST_RUNS[label] for label in (UNFILTERED, FILTERED)}
    ingest = measure_ingest(stack, receiver, profile, labels)
    ratios = filter_ratios(ingest)
    log(
        f"payload filters, cost per event filtered / unfiltered: wall {ratios['wall_cost_ratio']:.3f}x,"
        f" web CPU {ratios['web_cpu_ratio']:.3f}x"
    )
    return {"ingest": ingest, "ratios": ratios, "filters": REALISTIC_FILTERS, "events_per_run": profile.ingest_events}


def _warm_up(stack: OutflowStack, receiver: Receiver, sampler: PeakSampler) -> None:
    warmup = e2e_run(stack, receiver, sampler, tag="warmup", fanout=1, events=WARMUP_EVENTS, timeout=30)
    if not warmup["complete"]:
        raise RuntimeError(f"warm-up: only {warmup['deliveries']} of {WARMUP_EVENTS} deliveries arrived")
    log(f"warm-up: {WARMUP_EVENTS} deliveries in {warmup['seconds']:.2f}s")


def measure_e2e(stack: OutflowStack, receiver: Receiver, sampler: PeakSampler, profile: Profile) -> dict:
    """The end-to-end runs with one worker process, then with a second one beside it."""
    results = {"e2e": _e2e_runs(stack, receiver, sampler, profile, processes=1)}
    for _ in range(WORKER_PROCESSES - 1):
        stack.worker_add()
    time.sleep(WORKER_READY_SECONDS)
    try:
        results["e2e_workers"] = _e2e_runs(stack, receiver, sampler, profile, processes=WORKER_PROCESSES)
    finally:
        stack.workers_reduce()
    return results


def _e2e_runs(
    stack: OutflowStack, receiver: Receiver, sampler: PeakSampler, profile: Profile, *, processes: int
) -> dict[str, list]:
    results = {}
    for label, fanout in FANOUTS.items():
        runs = results[label] = []
        for run in range(1, profile.runs + 1):
            runs.append(
                e2e_run(
                    stack,
                    receiver,
                    sampler,
                    tag=f"e2e-{processes}-{fanout}-{run}",
                    fanout=fanout,
                    events=max(1, profile.e2e_deliveries // fanout),
                    timeout=profile.e2e_timeout,
                    stats_wait=profile.stats_wait_seconds,
                )
            )
            costs = runs[-1]["per_delivery"]
            log(
                f"e2e, {label}, {processes} worker process(es), run {run}: {runs[-1]['deliveries']}/"
                f"{runs[-1]['expected']} deliveries, {runs[-1]['deliveries_per_second'] or 0:.0f}/s; per delivery:"
                f" worker {costs['worker_cpu_ms']:.2f} ms CPU, web {costs['web_cpu_ms']:.2f} ms,"
                f" PostgreSQL {costs['postgres_cpu_ms']:.2f} ms, Redis {costs['redis_cpu_ms']:.2f} ms,"
                f" {costs['commits']:.2f} commits, {costs['rows_written']:.1f} rows written,"
                f" {costs['redis_commands']:.1f} Redis commands"
            )
    return results


def measure_scale(stack: OutflowStack, receiver: Receiver, profile: Profile) -> dict:
    """bench.hot_paths (worker and beat frozen) on one subscription, then `recover` with everything running."""
    hot_ids = subscriptions_create(stack, [receiver.url("/outflow/hot/0")], tag="hot")
    stack.freeze_pipeline()
    try:
        hot = json.loads(
            stack.python(
                "-m",
                "bench.hot_paths",
                "--rows",
                str(profile.hot_rows),
                "--repeats",
                str(profile.hot_repeats),
                "--purge-baseline-seconds",
                str(profile.purge_baseline_seconds),
                "--base-url",
                stack.base_url,
                "--api-key",
                stack.api_key,
                "--subscription",
                hot_ids[0],
                timeout=profile.max_seconds,
            )
        )
    finally:
        stack.purge_queue()
        stack.thaw_pipeline()
    log(f"hot paths: {profile.hot_rows:,} rows filled in {hot['fill_seconds']:.0f}s")
    for path in report.HOT_PATHS:
        empty, full = report.hot_ms(hot["empty"], path), report.hot_ms(hot["full"], path)
        log(f"hot path {path}: {empty} -> {full} ms ({full / empty:.2f}x)")
    purge = hot["purge"]
    log(
        f"purge: {purge['events']} events, {purge['deliveries']} deliveries, {purge['request_logs']} request logs"
        f" in {purge['seconds']:.1f}s ({purge['rows_per_second']:.0f} rows/s)"
    )
    recover_ids = subscriptions_create(stack, [receiver.url("/outflow/recover/0")], tag="recover")
    recover = recover_scenario(
        api=stack.api, database=stack.database, subscription_id=recover_ids[0], count=profile.recover_deliveries
    )
    log(
        f"recover of {recover['deliveries']:,}: answered in {recover['answer_ms']:.0f} ms, all pending again after"
        f" {recover['requeue_seconds'] or 0:.1f}s"
    )
    stack.clear(hot_ids + recover_ids)
    return {"hot_paths": hot, "recover": recover}


def measure_scenarios(stack: OutflowStack, receiver: Receiver, sampler: PeakSampler, profile: Profile) -> dict:
    dead = dead_endpoint_scenario(
        stack,
        receiver,
        tag="dead",
        rate=profile.dead_rate,
        seconds=profile.dead_seconds,
        drain_seconds=profile.drain_seconds,
    )
    log(f"dead endpoint: healthy p95 {dead['baseline']['p95_ms']} ms -> {dead['with_dead_endpoint']['p95_ms']} ms")
    retry = retry_memory_scenario(
        stack, receiver, sampler, count=profile.retrying_deliveries, sweeps=profile.retrying_sweeps
    )
    log(f"retry memory: worker RSS grew by {retry['growth_bytes'] / report.MIB:.1f} MiB")
    return {"dead_endpoint": dead, "retry_memory": retry}


def measure_peer(peer: PeerStack, sampler: PeakSampler, profile: Profile) -> dict:
    results = {"name": "django-webhook 0.0.15", "e2e_median": {}, "worker_peak_rss_median": {}}
    results["e2e"] = _peer_runs(peer, sampler, profile, processes=1)
    for _ in range(WORKER_PROCESSES - 1):
        peer.worker_add()
    time.sleep(WORKER_READY_SECONDS)
    results["e2e_workers"] = _peer_runs(peer, sampler, profile, processes=WORKER_PROCESSES)
    return results


def _peer_runs(peer: PeerStack, sampler: PeakSampler, profile: Profile, *, processes: int) -> dict[str, list]:
    results = {}
    for label, fanout in FANOUTS.items():
        runs = results[label] = []
        for run in range(1, profile.runs + 1):
            sampler.restart("peer worker")
            outcome = peer.e2e_run(
                tag=f"e2e-{processes}-{fanout}-{run}",
                fanout=fanout,
                events=max(1, profile.e2e_deliveries // fanout),
                timeout=profile.e2e_timeout,
            )
            outcome["worker_peak_rss_bytes"] = sampler.peak("peer worker")
            runs.append(outcome)
            log(
                f"peer e2e, {label}, {processes} worker process(es), run {run}: {outcome['deliveries']}/"
                f"{outcome['expected']} deliveries, {outcome['deliveries_per_second'] or 0:.0f}/s"
            )
    return results


def measure_ceiling(stack: OutflowStack, receiver: Receiver, profile: Profile) -> dict:
    runs = []
    for run in range(1, profile.runs + 1):
        outcome = json.loads(
            stack.python(
                "-m",
                "bench.ceiling",
                "--url",
                receiver.url(f"/ceiling/{run}"),
                "--requests",
                str(profile.ceiling_requests),
                "--seconds",
                str(profile.ceiling_seconds),
            )
        )
        outcome["requests_per_second"] = outcome["requests"] / outcome["seconds"]
        runs.append(outcome)
        log(f"raw ceiling, run {run}: {outcome['requests_per_second']:.0f} requests/s")
    return {"runs": runs}


def measure_mapping(stack: OutflowStack, processes: Processes) -> dict:
    """bench.mapping_cost's result line; the process is stopped once it has printed it, whether it exits or not."""
    processes.start("mapping-cost", [sys.executable, "-m", "bench.mapping_cost"], env=stack.env)

    def result_lines() -> list[str]:
        return [line for line in processes.log("mapping-cost").splitlines() if line.startswith("{")]

    poll_until(lambda: result_lines() or not processes.alive("mapping-cost"), timeout=MAPPING_TIMEOUT_SECONDS)
    exited = poll_until(lambda: not processes.alive("mapping-cost"), timeout=MAPPING_EXIT_SECONDS)
    processes.stop("mapping-cost")
    if not result_lines():
        return {"available": False, "reason": f"bench.mapping_cost printed no result: {processes.log('mapping-cost')}"}
    return {**json.loads(result_lines()[-1]), "exited_by_itself": exited}


def main(argv: list[str] | None = None) -> None:
    arguments, profile = parse_arguments(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, _stop)
    signal.alarm(profile.max_seconds)
    started = time.time()
    state_dir = Path(tempfile.mkdtemp(prefix="outflow-bench-"))
    processes = Processes(state_dir)
    sampler = PeakSampler()
    stack = peer = None
    succeeded = False
    try:
        receiver = receiver_start(processes, directory=state_dir / "receiver", kind=arguments.receiver)
        log(f"receiver: {receiver.kind} on port {receiver.port}; logs in {state_dir}")
        stack = OutflowStack(processes, state_dir=state_dir)
        stack.prepare()
        stack.start()
        sampler.watch("outflow worker", stack.worker_pid())
        log(f"Outflow: web on port {stack.port}, worker and beat running")
        if arguments.e2e_only:
            arguments.output.mkdir(parents=True, exist_ok=True)
            _warm_up(stack, receiver, sampler)
            report.write_json(measure_e2e(stack, receiver, sampler, profile), arguments.output / "e2e.json")
            log(f"wrote {arguments.output / 'e2e.json'}")
            succeeded = True
            return
        if arguments.filters_only:
            arguments.output.mkdir(parents=True, exist_ok=True)
            report.write_json(measure_filters(stack, receiver, sampler, profile), arguments.output / "filters.json")
            log(f"wrote {arguments.output / 'filters.json'}")
            succeeded = True
            return
        if arguments.hot_paths_only:
            arguments.output.mkdir(parents=True, exist_ok=True)
            report.write_json(measure_scale(stack, receiver, profile), arguments.output / "hot_paths.json")
            log(f"wrote {arguments.output / 'hot_paths.json'}")
            succeeded = True
            return
        results = {"outflow": measure_outflow(stack, receiver, sampler, profile)}
        results["scenarios"] = measure_scenarios(stack, receiver, sampler, profile)
        results["outflow"]["mapping"] = measure_mapping(stack, processes)
        results["scale"] = measure_scale(stack, receiver, profile)
        for name in ("beat", "worker", "web"):
            processes.stop(name)
        peer = PeerStack(processes, receiver)
        log("the peer: preparing its venv and database")
        peer.prepare()
        peer.start()
        sampler.watch("peer worker", peer.worker_pid())
        results["peer"] = measure_peer(peer, sampler, profile)
        peer.workers_stop()
        results["ceiling"] = measure_ceiling(stack, receiver, profile)
        results["meta"] = {
            "started_at": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.time() - started, 1),
            "smoke": arguments.smoke,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "receiver": receiver.kind,
            "web_concurrency": WEB_CONCURRENCY,
            "worker_concurrency": WORKER_CONCURRENCY,
            "worker_processes_compared": [1, WORKER_PROCESSES],
            "request_timeout_seconds": REQUEST_TIMEOUT_SECONDS,
            "sweep_interval_seconds": SWEEP_INTERVAL_SECONDS,
            "profile": asdict(profile),
        }
        report.summarize(results)
        arguments.output.mkdir(parents=True, exist_ok=True)
        report.write_json(results, arguments.output / "latest.json")
        report.plot(results, arguments.output / "latency.png")
        print(report.table(results))
        log(f"wrote {arguments.output / 'latest.json'} and {arguments.output / 'latency.png'}")
        succeeded = True
    finally:
        signal.alarm(0)
        processes.stop_all()
        sampler.close()
        for opened in (stack, peer):
            if opened is not None:
                opened.close()
        for name in (DATABASE, PEER_DATABASE):
            database_drop(name)
        for url in (BROKER_URL, CACHE_URL, PEER_BROKER_URL):
            redis_flush(url)
        if succeeded:
            shutil.rmtree(state_dir, ignore_errors=True)
        else:
            log(f"the run failed; its logs are kept in {state_dir}")
