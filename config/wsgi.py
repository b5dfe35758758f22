"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.postgresql.base import waits_bound
from config.tracing import tracing_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
waits_bound(answer_timeout=settings.DATABASE_ANSWER_TIMEOUT_SECONDS)
# Before the application loads its middleware, which tracing adds to.
tracing_start(service_name="outflow-web")
application = get_wsgi_application()
