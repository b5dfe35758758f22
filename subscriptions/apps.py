from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tenancy app announces a new environment with a signal (it may not import this app); see receivers.py.
        from subscriptions import receivers  # noqa: F401
