"""The Workbench's page of a rotated signing secret, a subscription's or (notifications/admin.py) an environment's
notification settings': the new secret, and how long the previous one keeps signing."""

from django.conf import settings
from django.template.response import TemplateResponse


def secret_rotated_page(
    request,
    *,
    admin_site,
    owner: str,
    secret: str,
    changelist: tuple[str, str],
    change_url: str,
    back_label: str,
    shown_once: bool,
) -> TemplateResponse:
    """`changelist` is (title, url) for the breadcrumbs. Only views wrapped in admin_view answer with it: its
    never_cache keeps the secret out of every cache."""
    changelist_title, changelist_url = changelist
    context = {
        **admin_site.each_context(request),
        "title": f"New signing secret of {owner}",
        "owner": owner,
        "secret": secret,
        "changelist_title": changelist_title,
        "changelist_url": changelist_url,
        "change_url": change_url,
        "back_label": back_label,
        "shown_once": shown_once,
        "rotation_hours": settings.OUTFLOW_SECRET_ROTATION_HOURS,
    }
    return TemplateResponse(request, "admin/signing_secret_rotated.html", context)
