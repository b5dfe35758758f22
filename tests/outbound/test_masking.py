"""Masking of secret-looking header and query values, and SSRF refusals that name no address."""

import pytest

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
