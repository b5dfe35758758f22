"""The egress proxy, through a real squid (HTTP CONNECT) and a real microsocks (SOCKS5) on loopback: what it is asked
to connect to, what stays refused, and which failures are the proxy's."""

import contextlib
import socket
import subprocess
import time

import pytest
from django.test import override_settings

from outbound.client import ClientTls, send
from tests.squid_proxy import SquidProxy
from tests.throwaway_servers import free_port


def _send(url: str, **kwargs):
    return send(method="POST", url=url, headers={}, body=b"{}", timeout=5, **kwargs)


def test_a_request_goes_through_the_proxy_to_the_checked_address_with_its_host_name_kept(squid, receiver):
    # Connection: close ends the tunnel, and squid logs a CONNECT when its tunnel ends.
    receiver.script("/hook", statuses=[204], headers={"Connection": "close"})
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=squid.url):
        exchange = _send(f"http://localhost:{receiver.port}/hook")
    assert (exchange.status, exchange.error, exchange.proxy_failed) == (204, None, False)
    [received] = receiver.received("/hook")
    assert received.headers["host"] == f"localhost:{receiver.port}"
    # The proxy was asked for the address Outflow resolved and checked, never for the name.
    [line] = squid.wait_for_log(f"CONNECT 127.0.0.1:{receiver.port}")
    assert "localhost" not in "\n".join(squid.access_log())


def test_tls_through_the_proxy_keeps_the_name_for_sni_and_presents_the_client_certificate(squid, mtls_endpoint):
    mtls_endpoint.receiver.script("/hook", statuses=[204], headers={"Connection": "close"})
    tls = ClientTls(
        certificate=mtls_endpoint.client.certificate.encode(),
        private_key=mtls_endpoint.client.private_key.encode(),
        ca_certificates=mtls_endpoint.ca.pem.encode(),
    )
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=squid.url):
        exchange = _send(mtls_endpoint.url("/hook"), tls=tls)
    # The server certificate names localhost only as DNS: verification passed, so SNI and the check used the name.
    assert (exchange.status, exchange.error) == (204, None)
    squid.wait_for_log(f"CONNECT 127.0.0.1:{mtls_endpoint.receiver.port}")


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/hook", "http://169.254.169.254/latest/meta-data/"])
def test_a_forbidden_target_stays_forbidden_and_never_reaches_the_proxy(squid, receiver, target):
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=squid.url, OUTFLOW_ALLOW_PRIVATE_TARGETS=False):
        exchange = _send(target.format(port=receiver.port))
    assert exchange.error == f"refused target: host {target.split('/')[2].split(':')[0]!r} is not a public address"
    assert exchange.proxy_failed is False
    assert receiver.received() == [] and [line for line in squid.access_log() if "CONNECT" in line] == []


def test_a_target_that_is_down_behind_the_proxy_is_the_targets_failure(squid):
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=squid.url):
        exchange = _send(f"http://127.0.0.1:{free_port()}/hook")
    assert exchange.status is None and exchange.proxy_failed is False
    assert "CONNECT tunnel failed, response 503" in exchange.error


def test_a_proxy_that_is_down_is_a_proxy_failure(receiver):
    proxy = SquidProxy(start=False)
    try:
        with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=proxy.url):
            exchange = _send(receiver.url("/hook"))
    finally:
        proxy.close()
    assert exchange.status is None and exchange.proxy_failed is True
    assert exchange.error.startswith("proxy error: ")
    assert receiver.received() == []


def test_a_proxy_refusing_the_connect_is_a_proxy_failure(squid, receiver):
    squid.config.write_text(squid.config.read_text().replace("http_access allow loopback\n", ""))
    squid.stop()
    squid.start()
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=squid.url):
        exchange = _send(receiver.url("/hook"))
    assert exchange.proxy_failed is True and "403" in exchange.error
    assert receiver.received() == []


def test_healthz_names_a_proxy_that_is_down(client, db):
    proxy = SquidProxy()
    try:
        with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=proxy.url):
            assert client.get("/healthz").json()["proxy"] == "ok"
            proxy.stop()
            response = client.get("/healthz")
    finally:
        proxy.close()
    assert response.status_code == 503 and response.json()["proxy"] == "down"


@pytest.fixture
def microsocks(tmp_path):
    """Debian's microsocks, a SOCKS5 server, on a free loopback port; it logs each connection it makes."""
    port, log = free_port(), tmp_path / "microsocks.log"
    with open(log, "w") as output:
        process = subprocess.Popen(["microsocks", "-i", "127.0.0.1", "-p", str(port)], stdout=output, stderr=output)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        time.sleep(0.05)
    yield port, log
    process.kill()
    process.wait(timeout=10)


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_a_socks5_proxy_is_asked_for_the_checked_address(microsocks, receiver, scheme):
    port, log = microsocks
    with override_settings(OUTFLOW_OUTBOUND_PROXY_URL=f"{scheme}://127.0.0.1:{port}"):
        exchange = _send(f"http://localhost:{receiver.port}/hook")
        down = _send(f"http://127.0.0.1:{free_port()}/hook")
    assert (exchange.status, exchange.error) == (204, None)
    assert receiver.received("/hook")[0].headers["host"] == f"localhost:{receiver.port}"
    # Even socks5h (the proxy resolves names) is handed the address Outflow checked.
    assert f"connected to 127.0.0.1:{receiver.port}" in log.read_text() and "localhost" not in log.read_text()
    # The SOCKS server reporting the target refused is the target's failure, not the proxy's.
    assert down.status is None and down.proxy_failed is False
