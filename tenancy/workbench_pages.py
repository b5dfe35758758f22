"""Pages the Workbench's tools share: the confirmation asked before a tool acts (Show secret, Rotate secret, Pause)."""

from django.template.response import TemplateResponse


def confirmation_page(
    request,
    *,
    admin_site,
    title: str,
    explanation: str,
    confirm_label: str,
    breadcrumbs: list[tuple[str, str]],
    cancel_url: str,
) -> TemplateResponse:
    """A GET of a tool's URL answers this page; its form POSTs back to the same URL, which then acts. It works without
    JavaScript. `breadcrumbs` is [(title, url)] from the changelist to the object."""
    context = {
        **admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "confirm_label": confirm_label,
        "trail": breadcrumbs,
        "cancel_url": cancel_url,
    }
    return TemplateResponse(request, "admin/workbench_confirm.html", context)
