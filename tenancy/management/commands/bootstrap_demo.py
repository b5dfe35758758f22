"""For `make run`: a demo environment and an admin user, made once and printed at every start."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from tenancy.actors import acting_as, actor_of_command
from tenancy.services import environment_create


class Command(BaseCommand):
    help = "Create (once) a demo environment and an admin user, and print their API key and password."

    def handle(self, *args, **options):
        path = settings.VAR_DIR / "demo.json"
        if path.exists():
            demo = json.loads(path.read_text())
        else:
            with acting_as(actor_of_command("bootstrap_demo")):
                environment, key = environment_create(name="demo")
            password = secrets.token_urlsafe(12)
            User = get_user_model()
            admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
            admin.set_password(password)
            admin.save()
            demo = {
                "environment": str(environment.pk),
                "api_key": key,
                "admin_user": "admin",
                "admin_password": password,
            }
            path.write_text(json.dumps(demo))
            path.chmod(0o600)
        self.stdout.write(
            f"Demo environment {demo['environment']}\n"
            f"  API key:        {demo['api_key']}\n"
            f"  Admin:          http://127.0.0.1:8000/admin/\n"
            f"  Admin user:     {demo['admin_user']}, password {demo['admin_password']}\n"
            f"  API docs:       http://127.0.0.1:8000/api/docs/"
        )
