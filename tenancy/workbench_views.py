"""The Workbench's own views outside the model pages: the header's environment switcher and the command palette's
entries."""

from django.contrib import admin
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from tenancy.workbench import CURRENT_ENVIRONMENT_KEY, EnvironmentScopedAdmin, workbench_environments


def environment_switch_view(request):
    """Makes one of the member's environments the current one, then shows the list the member was on (an object of
    the previous environment would answer 404 in the new one)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    chosen = request.POST.get("environment", "")
    if chosen not in {str(environment.id) for environment in workbench_environments(request)}:
        raise Http404("no such environment")
    request.session[CURRENT_ENVIRONMENT_KEY] = chosen
    return HttpResponseRedirect(_list_of(request.POST.get("next", "")))


def _list_of(path: str) -> str:
    """The model list a Workbench path belongs to (/admin/app/model/), else the Workbench's home: never elsewhere."""
    index = reverse("admin:index")
    parts = [part for part in path.removeprefix(index).split("/") if part] if path.startswith(index) else []
    if len(parts) >= 2 and all(part.isidentifier() for part in parts[:2]):
        return f"{index}{parts[0]}/{parts[1]}/"
    return index


# Words a person types for a page beside its own name, by model ("webhook credentials" finds the credentials).
PALETTE_ALIASES = {
    "credentials.credential": "webhook credentials auth",
    "requestlog.requestlog": "request log requests",
    "subscriptions.subscription": "webhooks endpoints",
    "tenancy.member": "people users team roles",
}
# At most this many objects of each kind are offered.
PALETTE_OBJECTS = 500


def palette_entries_view(request):
    """The command palette's entries: the pages the member may open, "New …" where they may add, and the current
    environment's named objects, each {label, kind, url, words}; scoped as the pages are (their admins' querysets)."""
    entries = []
    for app in admin.site.get_app_list(request):
        for model in app["models"]:
            key = f"{app['app_label']}.{model['object_name'].lower()}"
            words = PALETTE_ALIASES.get(key, "")
            if model.get("admin_url"):
                entries.append({"label": str(model["name"]), "kind": "page", "url": model["admin_url"], "words": words})
            if model.get("add_url"):
                singular = str(model["model"]._meta.verbose_name)
                entries.append({"label": f"New {singular}", "kind": "page", "url": model["add_url"], "words": words})
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, EnvironmentScopedAdmin) or not model_admin.has_view_permission(request):
            continue
        if "name" not in {field.name for field in model._meta.get_fields()}:
            continue
        kind = str(model._meta.verbose_name)
        info = (model._meta.app_label, model._meta.model_name)
        for pk, name in model_admin.get_queryset(request).order_by("name").values_list("pk", "name")[:PALETTE_OBJECTS]:
            url = reverse(f"admin:{info[0]}_{info[1]}_change", args=[pk])
            entries.append({"label": name, "kind": kind, "url": url, "words": kind})
    return JsonResponse({"entries": entries})
