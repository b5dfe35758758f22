"""Bearer API-key authentication: the key decides the environment of every API call."""

from rest_framework import authentication, exceptions, permissions

from tenancy.selectors import api_key_environment


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not key.strip():
            raise exceptions.AuthenticationFailed("Authorization must be 'Bearer <api key>'.")
        environment = api_key_environment(key=key.strip())
        if environment is None:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        return (None, environment)

    def authenticate_header(self, request):
        return self.keyword


class HasEnvironment(permissions.BasePermission):
    """Allows a request authenticated by an API key; `request.auth` is then its Environment."""

    def has_permission(self, request, view):
        return request.auth is not None
