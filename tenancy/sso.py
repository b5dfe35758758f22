"""Single sign-on to the Workbench through the customer's OpenID Connect provider (mozilla-django-oidc).

A member signs in when the provider vouches for their email (`email_verified` true) and exactly one active member
(a user with a membership, not an operator) has that email. Nobody else gets in and no user is ever created here:
an unknown, unverified or shared email is refused. The provider's own checks (its password, its second factor) are
the sign-in's; the Workbench asks for no TOTP code after it.
"""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from tenancy.oidc_discovery import ProviderUnavailable, mozilla_oidc_setting, sso_configured
from tenancy.selectors import sso_members_by_email

logger = logging.getLogger(__name__)

BACKEND_PATH = "tenancy.sso.MemberSsoBackend"
# What a provider that is down, slow or answers wrongly raises: the sign-in fails, the page does not.
_REFUSALS = (ProviderUnavailable, requests.RequestException, SuspiciousOperation, jwt.PyJWTError, ValueError)


def signed_in_through_sso(request) -> bool:
    return request.session.get(BACKEND_SESSION_KEY) == BACKEND_PATH


class MemberSsoBackend(OIDCAuthenticationBackend):
    # The callback view passes exactly these; a password sign-in (username, password) never reaches the provider.
    CALLBACK_ARGUMENTS = {"nonce", "code_verifier"}

    def __init__(self, *args, **kwargs):
        # Django makes every backend for each sign-in and each request's user: read the provider only in a callback.
        self.UserModel = get_user_model()

    @staticmethod
    def get_settings(attr, *args):
        return mozilla_oidc_setting(attr, *args)

    def provider_read(self) -> None:
        """mozilla-django-oidc's settings, the provider's endpoints among them (raises ProviderUnavailable)."""
        super().__init__()

    def authenticate(self, request, **kwargs):
        if request is None or set(kwargs) != self.CALLBACK_ARGUMENTS or not sso_configured():
            return None
        try:
            self.provider_read()
            return super().authenticate(request, **kwargs)
        except _REFUSALS as error:
            logger.warning("single sign-on refused: %s: %s", type(error).__name__, str(error)[:200])
            return None

    def verify_token(self, token, **kwargs):
        """mozilla-django-oidc checks the signature, the expiry and the nonce; the issuer and the audience are checked
        here (OpenID Connect Core 3.1.3.7), so a token the provider made for another client does not sign in."""
        payload = super().verify_token(token, **kwargs)
        if str(payload.get("iss", "")).rstrip("/") != settings.OUTFLOW_OIDC_ISSUER:
            raise SuspiciousOperation("the ID token is of another issuer")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        client_id = settings.OUTFLOW_OIDC_CLIENT_ID
        if client_id not in audiences or (len(audiences) > 1 and payload.get("azp") != client_id):
            raise SuspiciousOperation("the ID token is for another client")
        if "exp" not in payload:
            raise SuspiciousOperation("the ID token has no expiry")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        claims = super().get_userinfo(access_token, id_token, payload)
        # The userinfo must be about the ID token's subject (OpenID Connect Core 5.3.2).
        if not isinstance(claims, dict) or claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the userinfo is of another subject")
        return claims

    def verify_claims(self, claims) -> bool:
        return isinstance(claims.get("email"), str) and bool(claims["email"]) and claims.get("email_verified") is True

    def filter_users_by_claims(self, claims):
        return sso_members_by_email(email=claims["email"])

    def get_user(self, user_id):
        user = super().get_user(user_id)
        # A member removed from every environment, or made an operator, since signing in is signed out.
        if user is None or not user.is_active or user.is_superuser or not user.memberships.exists():
            return None
        return user
