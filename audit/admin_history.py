"""The History of a Workbench object: its audit log entries (every change, by the API, the Workbench, a command or
Outflow itself) in place of Django's admin log, which sees only the Workbench's own changes."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse

from audit.selectors import audit_entries_of

HISTORY_PAGE_SIZE = 100


class AuditHistoryAdmin:
    """A mixin for the model admin of an audited object (one with an `environment`)."""

    # The object type its entries name ("subscription", "credential", …).
    audit_object_type: str

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = audit_entries_of(
            environment_id=obj.environment_id, object_type=self.audit_object_type, object_id=str(obj.pk)
        ).order_by("-created_at", "-id")
        page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("p"))
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": opts,
            "app_label": opts.app_label,
            "module_name": str(opts.verbose_name_plural).capitalize(),
            "page": page,
            "entries": [(entry, sorted(entry.changes.items())) for entry in page.object_list],
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "audit/object_history.html", context)
