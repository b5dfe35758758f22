"""Masking of secret-looking header and query values, and SSRF refusals that name no address."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from outbound import masking
from outbound.addresses import TargetRefused, check_url
from outbound.masking import MASK, masked_headers, masked_url


@pytest.mark.parametrize("name", ["sig", "code", "SIG", "x-functions-key", "api_key", "access_token"])
def test_secret_query_parameters_are_masked(name):
    masked = masked_url(f"https://example.com/hook?{name}=s3cr3t&page=2")
    assert "s3cr3t" not in masked and "page=2" in masked


@pytest.mark.parametrize(
    "name", ["X-Hmac", "X-Sig", "X-Pass", "X-Passphrase", "X-Hub-Signature-256", "X-Pwd", "X-Jwt", "X-Private-Key"]
)
def test_secret_headers_are_masked(name):
    assert masked_headers({name: "s3cr3t"}) == {name: MASK}


@pytest.mark.parametrize("name", ["X-Design", "Content-Type", "X-Request-Id", "X-Error-Code", "Accept-Encoding"])
def test_ordinary_headers_are_shown(name):
    assert masked_headers({name: "value"}) == {name: "value"}


def test_the_address_a_refused_host_resolved_to_is_not_named():
    with pytest.raises(TargetRefused) as refused:
        check_url("http://localhost:9/", allow_private=False)
    assert "127.0.0.1" not in str(refused.value) and "::1" not in str(refused.value)
    assert "not a public address" in str(refused.value)


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "authorization",
        "Proxy-Authorization",
        "webhook-signature",
        "X-Amz-Security-Token",
        "Cookie",
        "Set-Cookie",
        "X-Auth-Token",
        "X-Client-Secret",
        "X-Api-Key",
        "api_key",
        "X-Password",
    ],
)
def test_sensitive_header_is_masked(name):
    assert masked_headers({name: "s3cr3t-value"}) == {name: MASK}


@pytest.mark.parametrize("name", ["Content-Type", "User-Agent", "webhook-id", "webhook-timestamp", "Accept"])
def test_ordinary_header_is_kept(name):
    assert masked_headers({name: "plain-value"}) == {name: "plain-value"}


def test_masking_headers_keeps_every_name_and_does_not_mutate_the_input():
    headers = {"Authorization": "Bearer abc", "Content-Type": "application/json"}

    masked = masked_headers(headers)

    assert masked == {"Authorization": MASK, "Content-Type": "application/json"}
    assert headers == {"Authorization": "Bearer abc", "Content-Type": "application/json"}


def test_a_long_header_name_from_an_endpoint_is_masked_but_not_remembered():
    names = [f"X-{index}-{'a' * 100_000}-Token" for index in range(3)]
    remembered = masking._is_sensitive_cached.cache_info().currsize

    assert masked_headers(dict.fromkeys(names, "v")) == dict.fromkeys(names, MASK)
    assert masking._is_sensitive_cached.cache_info().currsize == remembered


def test_masked_value_does_not_contain_the_secret():
    masked = masked_headers({"Authorization": "Bearer abc123"})

    assert "abc123" not in masked["Authorization"]


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


@pytest.mark.parametrize(
    "name", ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "access_token", "x-amz-signature"]
)
def test_sensitive_query_parameter_is_masked(name):
    url = f"https://bucket.s3.amazonaws.com/object?{name}=s3cr3t&page=2"

    masked = masked_url(url)

    assert _query(masked) == {name: MASK, "page": "2"}
    assert "s3cr3t" not in masked


def test_presigned_s3_url_keeps_its_non_secret_parameters():
    url = (
        "https://bucket.s3.amazonaws.com/object?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Security-Token=FQoGZXIvYXdzE&X-Amz-Signature=abcdef0123456789"
    )

    query = _query(masked_url(url))

    assert query == {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": MASK,
        "X-Amz-Date": "20260101T000000Z",
        "X-Amz-Expires": "3600",
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Security-Token": MASK,
        "X-Amz-Signature": MASK,
    }


def test_masked_url_keeps_scheme_host_path_and_fragment():
    parts = urlsplit(masked_url("https://example.com:8443/hooks/in?access_token=abc&x=1#frag"))

    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https",
        "example.com:8443",
        "/hooks/in",
        "frag",
    )


def test_url_without_query_is_unchanged():
    assert masked_url("https://example.com/hooks/in") == "https://example.com/hooks/in"


def test_url_with_only_ordinary_parameters_keeps_their_values():
    assert _query(masked_url("https://example.com/?page=2&q=a+b&empty=")) == {"page": "2", "q": "a b", "empty": ""}
