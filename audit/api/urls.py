from django.urls import re_path

from audit.api.views import AuditLogView

urlpatterns = [re_path(r"^audit-log/?$", AuditLogView.as_view(), name="audit-log")]
