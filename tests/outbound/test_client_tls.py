"""The client's TLS options against a real HTTPS receiver that requires a client certificate of a private CA."""

from outbound.client import ClientTls, send
from tests.tls_material import TestCa


def _send(url: str, tls: ClientTls | None):
    return send(method="POST", url=url, headers={}, body=b"{}", timeout=5, tls=tls)


def _tls(endpoint, **changes) -> ClientTls:
    given = {
        "certificate": endpoint.client.certificate.encode(),
        "private_key": endpoint.client.private_key.encode(),
        "ca_certificates": endpoint.ca.pem.encode(),
        **changes,
    }
    return ClientTls(**given)


def test_the_client_certificate_is_presented_and_the_private_ca_trusted(mtls_endpoint):
    exchange = _send(mtls_endpoint.url("/hook"), _tls(mtls_endpoint))
    assert (exchange.status, exchange.error) == (204, None)
    [received] = mtls_endpoint.receiver.received("/hook")
    assert received.headers["host"] == f"localhost:{mtls_endpoint.receiver.port}"


def test_without_a_client_certificate_the_handshake_fails_with_a_clear_error(mtls_endpoint):
    exchange = _send(mtls_endpoint.url("/hook"), _tls(mtls_endpoint, certificate=None, private_key=None))
    assert exchange.status is None
    assert exchange.error.startswith("TLS error") and "client certificate" in exchange.error
    assert mtls_endpoint.receiver.received() == []


def test_a_client_certificate_of_another_ca_is_refused(mtls_endpoint):
    stranger = TestCa("Someone else").issue("outflow-client", server=False)
    tls = _tls(mtls_endpoint, certificate=stranger.certificate.encode(), private_key=stranger.private_key.encode())
    exchange = _send(mtls_endpoint.url("/hook"), tls)
    assert exchange.status is None and exchange.error.startswith("TLS error")
    assert mtls_endpoint.receiver.received() == []


def test_the_private_ca_is_trusted_only_where_it_is_given(mtls_endpoint):
    exchange = _send(mtls_endpoint.url("/hook"), None)
    assert exchange.status is None
    assert exchange.error.startswith("TLS error") and "self-signed certificate in certificate chain" in exchange.error
