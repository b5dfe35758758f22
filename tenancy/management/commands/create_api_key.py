"""Print a new API key for an existing environment."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.models import Environment
from tenancy.services import api_key_create


class Command(BaseCommand):
    help = "Create a new API key for ENVIRONMENT (its id) and print it."

    def add_arguments(self, parser):
        parser.add_argument("environment")

    def handle(self, *args, environment, **options):
        try:
            target = Environment.objects.get(pk=environment)
        except (Environment.DoesNotExist, ValidationError) as error:
            raise CommandError(f"no environment {environment!r}") from error
        self.stdout.write(api_key_create(environment=target))
