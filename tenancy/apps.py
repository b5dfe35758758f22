from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    # The Workbench's heading over environments, API keys and members.
    verbose_name = "Access"
    default_auto_field = "django.db.models.BigAutoField"
