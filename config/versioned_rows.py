"""Rows that worker processes keep in memory: every write moves `updated_at`, the version workers reload on."""

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class VersionedQuerySet(models.QuerySet):
    """`update()` and `bulk_update()` move `updated_at` even when the caller forgets it."""

    def update(self, **changes):
        changes.setdefault("updated_at", Now())
        return super().update(**changes)

    def bulk_update(self, objs, fields, batch_size=None):
        now = timezone.now()
        for obj in objs:
            obj.updated_at = now
        return super().bulk_update(objs, {*fields, "updated_at"}, batch_size=batch_size)


class VersionedModel(models.Model):
    """A model whose rows workers cache (subscriptions/delivery_cache.py): no write leaves `updated_at` behind."""

    updated_at = models.DateTimeField(auto_now=True)

    objects = VersionedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        # auto_now writes only when its field is among update_fields: a save of some fields would keep the old version.
        if update_fields is not None:
            update_fields = {*update_fields, "updated_at"}
        super().save(*args, update_fields=update_fields, **kwargs)
