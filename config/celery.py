"""The Celery application, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery, signals
from django.db import close_old_connections

from config.tracing import tracing_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("outflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _tracing_start(**kwargs) -> None:
    """In the worker's main process, where its threads run the tasks (a prefork child inherits it: the SDK's
    exporting thread restarts after a fork). Beat is not traced: a sweep's trace starts in the worker."""
    tracing_start(service_name="outflow-worker")


@signals.worker_init.connect
@signals.beat_init.connect
def _database_waits_bound(**kwargs) -> None:
    """A task's database waits are bounded, with room for the longest batch a task runs (config/postgresql/base.py)."""
    from django.conf import settings

    from config.postgresql.base import waits_bound

    waits_bound(answer_timeout=settings.DATABASE_TASK_ANSWER_TIMEOUT_SECONDS)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _database_connections_refresh(**kwargs) -> None:
    """What Django does around each request, around each task: drop connections past CONN_MAX_AGE or broken."""
    close_old_connections()
