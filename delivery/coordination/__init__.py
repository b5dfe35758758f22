"""The coordination backend chosen in settings (`OUTFLOW_COORDINATION_BACKEND`): see `base.py` for what it holds."""

from django.conf import settings
from django.utils.module_loading import import_string

from delivery.coordination.base import Coordination

_backends: dict[str, Coordination] = {}


def coordination() -> Coordination:
    """The backend, made once per process (per setting: a test may choose the other one)."""
    path = settings.OUTFLOW_COORDINATION_BACKEND
    backend = _backends.get(path)
    if backend is None:
        backend = _backends.setdefault(path, import_string(path)())
    return backend
