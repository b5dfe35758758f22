"""Bearer API-key authentication: the key decides the environment of every API call, and its scope what it may call."""

from functools import partial

from rest_framework import authentication, exceptions, permissions

from tenancy.actors import actor_of_api_key, actor_set
from tenancy.selectors import api_key_of


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not key.strip():
            raise exceptions.AuthenticationFailed("Authorization must be 'Bearer <api key>'.")
        api_key = api_key_of(key=key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        # The key's scope is checked by tenancy.scopes.ApiKeyScope; what it changes is audited as its doing.
        request.api_key = api_key
        actor_set(partial(actor_of_api_key, api_key))  # made only if the call changes something
        return (None, api_key.environment)

    def authenticate_header(self, request):
        return self.keyword


class HasEnvironment(permissions.BasePermission):
    """Allows a request authenticated by an API key; `request.auth` is then its Environment."""

    def has_permission(self, request, view):
        return request.auth is not None
