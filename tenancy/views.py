"""The Workbench's sign-in pages besides the admin's own login: the Two-factor page and single sign-on's two steps."""

import logging

import django_otp
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from tenancy.oidc_discovery import ProviderUnavailable, mozilla_oidc_setting, provider_endpoints, sso_configured
from tenancy.sign_in import second_factor_missing
from tenancy.totp import (
    totp_device_confirm,
    totp_device_confirmed,
    totp_device_verify,
    totp_enrolment_device,
    totp_qr_code,
    totp_uri,
)

logger = logging.getLogger(__name__)


class TotpCodeForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The six digits your authenticator app shows now.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def two_factor_page(request):
    """Add an authenticator app (QR code and URI, confirmed by a first code), or give a code for this session."""
    user = request.user
    form = TotpCodeForm(request.POST or None)
    context = {**admin.site.each_context(request), "title": "Two-factor sign-in", "form": form}
    if totp_device_confirmed(user=user):
        if not second_factor_missing(request):
            return TemplateResponse(request, "tenancy/two_factor.html", {**context, "state": "on"})
        if form.is_valid():
            device = totp_device_verify(user=user, token=form.cleaned_data["token"])
            if device is not None:
                return _verified(request, device, "Two-factor code accepted.")
            form.add_error("token", "That code is not right, or was used already.")
        return TemplateResponse(request, "tenancy/two_factor.html", {**context, "state": "code"})
    device = totp_enrolment_device(user=user)
    if form.is_valid():
        if totp_device_confirm(device=device, token=form.cleaned_data["token"]):
            return _verified(request, device, "Two-factor sign-in is on: from now on you sign in with a code too.")
        form.add_error("token", "That code is not right: check the app shows the account just added, and try again.")
    uri = totp_uri(device)
    return TemplateResponse(
        request, "tenancy/two_factor.html", {**context, "state": "enrol", "totp_uri": uri, "qr_code": totp_qr_code(uri)}
    )


def _verified(request, device, message: str):
    # A session that gains a second factor gets a new key, so one seen before it counts for nothing.
    request.session.cycle_key()
    django_otp.login(request, device)
    messages.success(request, message)
    return redirect("admin:index")


class SsoStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider, with the endpoints from its discovery document."""

    get_settings = staticmethod(mozilla_oidc_setting)

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)

    def get(self, request):
        if not sso_configured():
            raise Http404("single sign-on is not set up")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_endpoints().authorization_endpoint
        except ProviderUnavailable as error:
            logger.warning("single sign-on unavailable: %s", error)
            messages.error(request, "The identity provider cannot be reached now. Try again later.")
            return redirect("admin:login")
        self.OIDC_RP_CLIENT_ID = settings.OUTFLOW_OIDC_CLIENT_ID
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back; tenancy.sso.MemberSsoBackend decides who that is."""

    get_settings = staticmethod(mozilla_oidc_setting)

    def get(self, request):
        if not sso_configured():
            raise Http404("single sign-on is not set up")
        return super().get(request)

    def login_failure(self):
        messages.error(
            self.request,
            "Single sign-on did not sign you in: your identity provider must vouch for an email address that belongs "
            "to a member of an environment here.",
        )
        return redirect("admin:login")
