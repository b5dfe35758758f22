"""What single sign-on accepts, with tokens signed by a key whose set a real HTTP server on loopback publishes: the ID
token's signature, issuer, audience, expiry and nonce; the userinfo's subject and verified email; exactly one member
with that email; and a password sign-in never reaching the provider."""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory

from tenancy import oidc_discovery
from tenancy.services import environment_create, member_set
from tenancy.sso import MemberSsoBackend

CLIENT_ID = "outflow"
NAMES = ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"]


@pytest.fixture
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider(settings, receiver, signing_key):
    issuer = receiver.url("/idp")
    settings.OUTFLOW_OIDC_ISSUER, settings.OUTFLOW_OIDC_CLIENT_ID = issuer, CLIENT_ID
    oidc_discovery._cached.clear()
    document = {"issuer": issuer, **{name: f"{issuer}/{name}" for name in NAMES}}
    receiver.script("/idp/.well-known/openid-configuration", statuses=[200], body=json.dumps(document).encode())
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key())), "kid": "k1", "alg": "RS256"}
    receiver.script("/idp/jwks_uri", statuses=[200], body=json.dumps({"keys": [jwk]}).encode())
    yield issuer
    oidc_discovery._cached.clear()


@pytest.fixture
def backend(provider):
    backend = MemberSsoBackend()
    backend.provider_read()
    return backend


def _token(key, issuer: str, **claims) -> str:
    payload = {"iss": issuer, "aud": CLIENT_ID, "sub": "42", "exp": time.time() + 60, "nonce": "n1", **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_token_of_the_provider_for_outflow_is_accepted(backend, provider, signing_key):
    assert backend.verify_token(_token(signing_key, provider), nonce="n1")["sub"] == "42"
    both = _token(signing_key, provider, aud=[CLIENT_ID, "other"], azp=CLIENT_ID)
    assert backend.verify_token(both, nonce="n1")["sub"] == "42"


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-client"},
        {"aud": [CLIENT_ID, "another-client"]},
        {"iss": "https://another-issuer.test"},
        {"nonce": "replayed"},
    ],
)
def test_a_token_for_another_client_issuer_or_sign_in_is_refused(backend, provider, signing_key, claims):
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(_token(signing_key, provider, **claims), nonce="n1")


def test_an_expired_token_or_one_signed_by_another_key_is_refused(backend, provider, signing_key):
    with pytest.raises(jwt.ExpiredSignatureError):
        backend.verify_token(_token(signing_key, provider, exp=time.time() - 5), nonce="n1")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(_token(other_key, provider), nonce="n1")


def _sign_in_with_userinfo(backend, receiver, **claims):
    receiver.script("/idp/userinfo_endpoint", statuses=[200], body=json.dumps({"sub": "42", **claims}).encode())
    return backend.get_or_create_user("access-token", "id-token", {"sub": "42"})


def test_exactly_one_member_with_the_verified_email_signs_in(backend, receiver, catalog):
    environment, _ = environment_create(name="acme")
    member, _ = member_set(environment=environment, username="ada", email="ada@acme.test")
    signed_in = _sign_in_with_userinfo(backend, receiver, email="ADA@acme.test", email_verified=True)
    assert signed_in == member.user
    assert receiver.received("/idp/userinfo_endpoint")[-1].headers["authorization"] == "Bearer access-token"


@pytest.mark.parametrize("email_verified", [False, "true", None])
def test_an_email_the_provider_has_not_verified_signs_in_nobody(backend, receiver, catalog, email_verified):
    environment, _ = environment_create(name="acme")
    member_set(environment=environment, username="ada", email="ada@acme.test")
    with pytest.raises(SuspiciousOperation, match="Claims verification failed"):
        _sign_in_with_userinfo(backend, receiver, email="ada@acme.test", email_verified=email_verified)


def test_userinfo_of_another_subject_signs_in_nobody(backend, receiver, catalog):
    environment, _ = environment_create(name="acme")
    member_set(environment=environment, username="ada", email="ada@acme.test")
    receiver.script("/idp/userinfo_endpoint", statuses=[200], body=b'{"sub": "7", "email": "ada@acme.test"}')
    with pytest.raises(SuspiciousOperation, match="another subject"):
        backend.get_or_create_user("access-token", "id-token", {"sub": "42"})


def test_operators_users_without_a_membership_and_shared_emails_sign_in_nobody(backend, receiver, catalog):
    environment, _ = environment_create(name="acme")
    users = get_user_model().objects
    users.create_superuser("root", "root@acme.test", "x")
    users.create_user("loner", "loner@acme.test", is_staff=True)
    member_set(environment=environment, username="gone", email="gone@acme.test")
    users.filter(username="gone").update(is_active=False)
    for email in ("root@acme.test", "loner@acme.test", "gone@acme.test", "nobody@acme.test"):
        assert _sign_in_with_userinfo(backend, receiver, email=email, email_verified=True) is None, email
    member_set(environment=environment, username="ann", email="team@acme.test")
    member_set(environment=environment, username="amy", email="Team@acme.test")
    with pytest.raises(SuspiciousOperation, match="Multiple users"):
        _sign_in_with_userinfo(backend, receiver, email="team@acme.test", email_verified=True)
    assert users.count() == 5


def test_a_password_sign_in_never_reaches_the_provider(provider, receiver):
    request = RequestFactory().post("/admin/login/?code=stolen&state=s")
    assert MemberSsoBackend().authenticate(request, username="ada", password="pw") is None
    assert receiver.received() == []
