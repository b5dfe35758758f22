"""The peer Outflow is compared with: django-webhook in a minimal Django project (one model whose saves fire webhooks).

It runs in its own virtual environment (bench/.peer-venv, from requirements.txt beside this file), with
`bench/` as its working directory so that this package imports as `peer`.
"""

from peer.celery_app import app

__all__ = ["app"]
