"""Settings of the peer project: PostgreSQL outflow_bench_peer, Redis database 9 (unless the harness names others),
webhooks on AnalyticsEvent saves."""

import os

SECRET_KEY = "outflow-bench-peer-not-secret"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS: list[str] = []
INSTALLED_APPS = ["django.contrib.contenttypes", "django_webhook", "peer"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_PEER_DATABASE", "outflow_bench_peer"),
        "HOST": "127.0.0.1",
        "PORT": 5432,
        "USER": "postgres",
        "CONN_MAX_AGE": 60,
    }
}
CELERY_BROKER_URL = os.environ.get("BENCH_PEER_BROKER_URL", "redis://127.0.0.1:6379/9")
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
DJANGO_WEBHOOK = {"MODELS": ["peer.AnalyticsEvent"], "USE_CACHE": True, "STORE_EVENTS": True}
