"""Password sign-in to the Workbench with a TOTP code, and OUTFLOW_REQUIRE_MFA: until a member who signed in with a
password alone adds a device, every Workbench page leads to the Two-factor page."""

import functools

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from tenancy.sso import signed_in_through_sso
from tenancy.totp import totp_device_confirmed, totp_device_verify


class WorkbenchLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Two-factor code",
        required=False,
        max_length=16,
        help_text="The six digits your authenticator app shows, if you have set one up.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "otp_required": "Your account signs in with a two-factor code: enter the one your authenticator app shows.",
        "otp_wrong": "That two-factor code is not right, or was used already. Wait for the next one and try again.",
    }

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and totp_device_confirmed(user=user):
            token = self.cleaned_data.get("otp_token", "")
            if not token:
                raise ValidationError(self.error_messages["otp_required"], code="otp_required")
            device = totp_device_verify(user=user, token=token)
            if device is None:
                raise ValidationError(self.error_messages["otp_wrong"], code="otp_wrong")
            # django-otp keeps the device in the session when Django signs the user in (django_otp.login).
            user.otp_device = device
        return cleaned_data


@functools.cache
def _paths() -> tuple[str, frozenset[str]]:
    """The Workbench's prefix, and its pages a member without a second factor may still reach."""
    allowed = {reverse(name) for name in ("workbench-two-factor", "admin:login", "admin:logout")}
    return reverse("admin:index"), frozenset(allowed)


def second_factor_missing(request) -> bool:
    user = request.user
    return user.is_authenticated and not user.is_verified() and not signed_in_through_sso(request)


class RequireMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.OUTFLOW_REQUIRE_MFA:
            prefix, allowed = _paths()
            if request.path.startswith(prefix) and request.path not in allowed and second_factor_missing(request):
                return redirect("workbench-two-factor")
        return self.get_response(request)
