"""What the audit app does on the tenancy app's signals (tenancy may import no app above it)."""

from django.dispatch import receiver

from audit.services import audit_record
from tenancy.signals import configuration_changed


@receiver(configuration_changed, dispatch_uid="audit.configuration_changed")
def _configuration_changed(sender, *, environment, action, object_id, object_name, changes, **kwargs) -> None:
    audit_record(
        environment_id=environment.pk, action=action, object_id=object_id, object_name=object_name, changes=changes
    )
