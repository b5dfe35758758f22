"""Settings of the test suite: the project's settings, with test defaults for what the environment leaves unset."""

import os

TEST_ENVIRONMENT = {
    "SECRET_KEY": "outflow-tests-secret-key",
    "FIELD_ENCRYPTION_KEY": "u6gHr9_TLMHXVIeZQfZk4bW6xqS8x5uQkU6HaP3Rl0A=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/outflow",
    "CELERY_BROKER_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379") + "/14",
    "CACHE_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379") + "/13",
    "OUTFLOW_ALLOW_PRIVATE_TARGETS": "true",
    "OUTFLOW_RETRY_BASE_SECONDS": "0.2",
    "OUTFLOW_REQUEST_TIMEOUT_SECONDS": "3",
    "OUTFLOW_SWEEP_INTERVAL_SECONDS": "0.5",
    "OUTFLOW_LEASE_MARGIN_SECONDS": "1",
    "OUTFLOW_REQUEUE_GRACE_SECONDS": "3",
    "CONN_MAX_AGE": "0",
}
for name, value in TEST_ENVIRONMENT.items():
    os.environ.setdefault(name, value)

from config.settings import *  # noqa: E402,F403
