"""SSRF address policy: IP literals and localhost only (the test machine has no network)."""

import pytest

from outbound.addresses import TargetRefused, check_url, is_public_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "fc00::1",
        "fe80::1",
        "fe80::1%eth0",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "255.255.255.255",
    ],
)
def test_non_public_address_is_not_public(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_address_is_public(address):
    assert is_public_address(address) is True


@pytest.mark.parametrize("url", ["ftp://8.8.8.8/x", "file:///etc/passwd", "gopher://8.8.8.8/", "8.8.8.8/x"])
def test_url_with_a_scheme_other_than_http_or_https_is_refused(url):
    with pytest.raises(TargetRefused, match="http or https"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http:///x", "https://:443/x"])
def test_url_without_a_host_is_refused(url):
    with pytest.raises(TargetRefused, match="name a host"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://user:pass@8.8.8.8/", "https://user@8.8.8.8/", "http://:pass@8.8.8.8/"])
def test_url_with_userinfo_is_refused(url):
    with pytest.raises(TargetRefused, match="credentials"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://8.8.8.8:99999/", "http://8.8.8.8:abc/", "http://8.8.8.8:-1/"])
def test_url_with_an_invalid_port_is_refused(url):
    with pytest.raises(TargetRefused, match="invalid port"):
        check_url(url, allow_private=True)


def test_private_ip_url_is_refused_when_private_targets_are_not_allowed():
    with pytest.raises(TargetRefused, match="not a public address"):
        check_url("http://127.0.0.1:9/x", allow_private=False)


def test_private_ip_url_is_accepted_when_private_targets_are_allowed():
    assert check_url("http://127.0.0.1:9/x", allow_private=True) is None


def test_localhost_is_refused_when_private_targets_are_not_allowed():
    with pytest.raises(TargetRefused, match="not a public address"):
        check_url("http://localhost/", allow_private=False)


@pytest.mark.parametrize("url", ["http://[::1]/", "http://169.254.169.254/latest/meta-data/", "https://10.1.2.3:8443/"])
def test_other_private_literals_are_refused_when_private_targets_are_not_allowed(url):
    with pytest.raises(TargetRefused):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://8.8.8.8/hook", "https://[2606:4700:4700::1111]:8443/hook"])
def test_public_ip_url_is_accepted_when_private_targets_are_not_allowed(url):
    assert check_url(url, allow_private=False) is None


def test_refusal_is_a_value_error():
    with pytest.raises(ValueError):
        check_url("ftp://8.8.8.8/", allow_private=True)


@pytest.mark.parametrize("address", ["2002:7f00:1::", "2002:a00:1::", "2002:a9fe:a9fe::"])
def test_6to4_addresses_wrapping_a_private_ipv4_are_not_public(address):
    assert is_public_address(address) is False
