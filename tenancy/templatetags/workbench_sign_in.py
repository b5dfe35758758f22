"""What the Workbench's sign-in templates ask: whether single sign-on is set up."""

from django import template

from tenancy.oidc_discovery import sso_configured

register = template.Library()


@register.simple_tag
def sso_is_configured() -> bool:
    return sso_configured()
