"""Create an environment and print it with its first API key as one JSON line."""

import json

from django.core.management.base import BaseCommand

from tenancy.actors import acting_as, actor_of_command
from tenancy.services import environment_create


class Command(BaseCommand):
    help = "Create an environment; prints {environment, name, api_key} as JSON."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        with acting_as(actor_of_command("create_environment")):
            environment, key = environment_create(name=name)
        self.stdout.write(json.dumps({"environment": str(environment.pk), "name": environment.name, "api_key": key}))
