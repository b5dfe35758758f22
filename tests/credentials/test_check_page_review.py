"""A hostile review of Check credential: the token fetch it makes is held to what deliveries are held to (no private
address unless allowed, the egress proxy when set), and it is a POST of an editor of the credential's environment."""

import json

from django.test import Client, override_settings

from credentials.services import credential_create
from tests import secrets
from tests.factories import member_client

TOKEN = json.dumps({"access_token": secrets.ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}).encode()


def _oauth(environment, token_url: str):
    return credential_create(
        environment=environment,
        name="Token login",
        type="oauth_client_credentials",
        values={"token_url": token_url, "client_id": "client-1", "client_secret": secrets.CLIENT_SECRET},
    )


def _check(client, credential):
    return client.post(f"/admin/credentials/credential/{credential.pk}/check/", follow=True)


def test_the_check_reaches_no_private_address_unless_allowed(environment, receiver, settings):
    receiver.script("/token", statuses=[200], body=TOKEN, headers={"Content-Type": "application/json"})
    # Saved while private targets were allowed (a loopback receiver); then the operator turns them off.
    credential = _oauth(environment, receiver.url("/token"))
    settings.OUTFLOW_ALLOW_PRIVATE_TARGETS = False
    response = _check(member_client(environment, "ed"), credential)
    [message] = list(response.context["messages"])
    assert message.message.startswith("Check failed: token endpoint unreachable: refused target")
    assert receiver.received("/token") == []


def test_the_check_goes_through_the_egress_proxy(environment, receiver, squid):
    # Closed after the answer: squid logs a tunnel when it ends.
    headers = {"Content-Type": "application/json", "Connection": "close"}
    receiver.script("/token", statuses=[200], body=TOKEN, headers=headers)
    credential = _oauth(environment, receiver.url("/token"))
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=squid.url):
        response = _check(member_client(environment, "ed"), credential)
    [message] = list(response.context["messages"])
    assert message.message == "Check passed: the token endpoint gave a token."
    assert squid.wait_for_log(f"CONNECT 127.0.0.1:{receiver.port}")


def test_the_check_needs_a_csrf_token(environment, receiver):
    receiver.script("/token", statuses=[200], body=TOKEN, headers={"Content-Type": "application/json"})
    credential = _oauth(environment, receiver.url("/token"))
    editor = member_client(environment, "ed")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = editor.cookies
    assert strict.post(f"/admin/credentials/credential/{credential.pk}/check/").status_code == 403
    assert receiver.received("/token") == []
