"""The Workbench's own view outside the model pages: the header's environment switcher."""

from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from tenancy.workbench import CURRENT_ENVIRONMENT_KEY, workbench_environments


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
