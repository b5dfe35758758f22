"""Print a new API key of a scope for an existing environment."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.actors import acting_as, actor_of_command
from tenancy.models import ApiKey, Environment
from tenancy.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create a new API key for ENVIRONMENT (its id) and print it. --scope full (the default) may call everything,"
        " ingest only POST /api/v1/events, read only GET."
    )

    def add_arguments(self, parser):
        parser.add_argument("environment")
        parser.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.FULL)

    def handle(self, *args, environment, scope, **options):
        try:
            target = Environment.objects.get(pk=environment)
        except (Environment.DoesNotExist, ValidationError) as error:
            raise CommandError(f"no environment {environment!r}") from error
        with acting_as(actor_of_command("create_api_key")):
            self.stdout.write(api_key_create(environment=target, scope=scope))
