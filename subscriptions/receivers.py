"""What the subscriptions app does on the tenancy app's signals (which it may not call directly)."""

from django.dispatch import receiver

from subscriptions.models import ExportSettings
from tenancy.models import Environment
from tenancy.signals import environment_created


@receiver(environment_created, dispatch_uid="subscriptions.environment_created")
def _environment_created(sender, *, environment: Environment, **kwargs) -> None:
    """Every environment has its export settings from the start: the Workbench lists one page per environment."""
    ExportSettings.objects.create(environment=environment)
