"""Names, addresses and environment variables of the benchmarked stack; none is shared with the test suite."""

import os
import socket
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
RESULTS_DIR = BENCH_DIR / "results"

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
# Overridable so that runs on a shared machine keep to their own names: BENCH_DATABASE (the peer's gets "_peer"),
# BENCH_REDIS_DATABASES "broker,cache,peer broker" (the peer may share Outflow's broker: they never run together
# and their queues differ).
DATABASE = os.environ.get("BENCH_DATABASE", "outflow_bench")
PEER_DATABASE = f"{DATABASE}_peer"
# BENCH_REDIS_URL: a Redis server of the bench's own (its command counts are then the bench's alone).
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
_BROKER_DB, _CACHE_DB, _PEER_BROKER_DB = os.environ.get("BENCH_REDIS_DATABASES", "10,11,9").split(",")
BROKER_URL = f"{REDIS}/{_BROKER_DB}"
CACHE_URL = f"{REDIS}/{_CACHE_DB}"
PEER_BROKER_URL = f"{REDIS}/{_PEER_BROKER_DB}"
# The queue names the two Celery apps use (Outflow's CELERY_TASK_DEFAULT_QUEUE, Celery's default for the peer).
OUTFLOW_QUEUE = "outflow"
PEER_QUEUE = "celery"

WEB_CONCURRENCY = 2
WORKER_CONCURRENCY = 16
# A dead endpoint holds a worker thread this long per attempt (production default 15 s; lowered to keep runs short).
REQUEST_TIMEOUT_SECONDS = 2.0
# The sweepers' period (each worker process sweeps): Outflow's default, set explicitly so the retry-memory scenario
# knows how long a cycle is.
SWEEP_INTERVAL_SECONDS = 5.0


def database_url(name: str) -> str:
    return f"postgres://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outflow_environment(*, port: int, state_dir: Path) -> dict[str, str]:
    """The variables Outflow's processes run with: PostgreSQL and Redis, production mode, loopback targets allowed."""
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECRET_KEY": "outflow-bench-secret-key-not-for-production",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url(DATABASE),
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": CACHE_URL,
        "OUTFLOW_ALLOW_PRIVATE_TARGETS": "true",
        "OUTFLOW_REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT_SECONDS),
        "OUTFLOW_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_SECONDS),
        # The per-environment API limits would answer the bench's back-to-back calls 429 (one environment makes
        # them all): what is measured is Outflow's cost, not the limit.
        "OUTFLOW_API_RATE": "100000/s",
        "OUTFLOW_INGEST_RATE": "100000/s",
        "OUTFLOW_VAR_DIR": str(state_dir / "var"),
        "CELERY_BEAT_SCHEDULE_FILENAME": str(state_dir / "beat-schedule"),
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WEB_CONCURRENCY),
        "WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
    }
