"""The Celery application, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("outflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _database_connections_refresh(**kwargs) -> None:
    """What Django does around each request, around each task: drop connections past CONN_MAX_AGE or broken."""
    close_old_connections()
