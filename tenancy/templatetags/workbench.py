"""The Workbench header's tags: the current environment and its switcher."""

from django import template

from tenancy.workbench import current_environment, workbench_environments

register = template.Library()


@register.inclusion_tag("admin/workbench_environment.html", takes_context=True)
def environment_switcher(context) -> dict:
    request = context["request"]
    return {
        "environments": workbench_environments(request),
        "current": current_environment(request),
        "next": request.get_full_path(),
        "operator": request.user.is_superuser,
    }
