"""gunicorn's settings for the Procfile's web (`--config python:config.gunicorn`): hooks only, the rest on its line."""


def post_worker_init(worker) -> None:
    """Each web worker bounds its database waits (config/postgresql/base.py); done here rather than in config.wsgi,
    which tests import in-process and whose statements may run longer."""
    from django.conf import settings

    from config.postgresql.base import waits_bound

    waits_bound(answer_timeout=settings.DATABASE_ANSWER_TIMEOUT_SECONDS)
