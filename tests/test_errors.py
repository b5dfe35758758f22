"""The error envelope's mapping of failures the views do not expect: the database unreachable is a 503."""

import pytest
from django.db import InterfaceError, OperationalError

from tenancy.authentication import ApiKeyAuthentication


@pytest.mark.parametrize("error", [OperationalError("connection refused"), InterfaceError("connection closed")])
def test_an_unreachable_database_is_a_503_with_retry_after(api, monkeypatch, error):
    def unreachable(self, request):
        raise error

    monkeypatch.setattr(ApiKeyAuthentication, "authenticate", unreachable)
    response = api.post("/api/v1/events", {"id": "e"}, format="json")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
