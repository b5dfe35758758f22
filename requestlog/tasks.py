"""Celery entry points of the request log: take arguments, call a service."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from requestlog.services import request_logs_purge


@shared_task(name="requestlog.tasks.request_logs_purge")
def request_logs_purge_expired() -> int:
    return request_logs_purge(older_than=timezone.now() - timedelta(days=settings.OUTFLOW_REQUEST_LOG_RETENTION_DAYS))
