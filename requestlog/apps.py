from django.apps import AppConfig


class RequestLogConfig(AppConfig):
    name = "requestlog"
    verbose_name = "Request log"
    default_auto_field = "django.db.models.BigAutoField"
