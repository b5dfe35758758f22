"""The one model of the peer project: an analytics event, stored as Outflow stores one."""

from django.db import models


class AnalyticsEvent(models.Model):
    event_id = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=64)
    payload = models.JSONField()

    def __str__(self) -> str:
        return self.event_id
