from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The subscriptions app announces a resume with a signal (it may not import this app); see receivers.py.
        from notifications import receivers  # noqa: F401
