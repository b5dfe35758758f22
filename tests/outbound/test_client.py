"""The outgoing HTTP client against a real loopback receiver: guard at connect time, limits, errors."""

import socket

from django.test import override_settings

from outbound.client import send
from tests.receiver import Receiver


def _send(url: str, **kwargs):
    return send(method="POST", url=url, headers={"content-type": "application/json"}, body=b"{}", timeout=2, **kwargs)


def test_success_reports_status_headers_and_body(receiver: Receiver):
    receiver.script("/ok", statuses=[201], headers={"X-Reply": "yes"}, body=b'{"ok":true}')
    exchange = _send(receiver.url("/ok"))
    assert exchange.status == 201 and exchange.error is None
    assert exchange.headers["X-Reply"] == "yes" and exchange.body == b'{"ok":true}'
    assert receiver.received("/ok")[0].body == b"{}"


def test_private_target_is_refused_at_connect_time(receiver: Receiver):
    with override_settings(OUTFLOW_ALLOW_PRIVATE_TARGETS=False):
        exchange = _send(receiver.url("/x"))
    assert exchange.status is None
    assert exchange.error.startswith("refused target:") and "not a public address" in exchange.error
    assert receiver.received() == []


def test_redirects_are_not_followed(receiver: Receiver):
    receiver.script("/moved", statuses=[302], headers={"Location": receiver.url("/elsewhere")})
    exchange = _send(receiver.url("/moved"))
    assert exchange.status == 302
    assert receiver.received("/elsewhere") == []


def test_response_body_is_read_up_to_the_limit(receiver: Receiver):
    receiver.script("/big", statuses=[200], body=b"a" * 100_000)
    exchange = _send(receiver.url("/big"), body_limit=65536)
    assert len(exchange.body) == 65536 and exchange.body_size == 100_000


def test_slow_endpoint_times_out(receiver: Receiver):
    receiver.script("/slow", statuses=[200], delay=1.5)
    exchange = send(method="POST", url=receiver.url("/slow"), headers={}, body=b"{}", timeout=0.5)
    assert exchange.status is None and exchange.error.startswith("timeout after 0.5s")
    assert exchange.duration_ms < 1400


def test_connection_error_names_no_url_or_query():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    exchange = _send(f"http://127.0.0.1:{port}/hook?access_token=s3cr3t")
    assert exchange.status is None and exchange.error.startswith("connection error:")
    assert "s3cr3t" not in exchange.error and "/hook" not in exchange.error


def _dripping_server(pause: float):
    """A server that answers 200 and then drips its body a byte at a time, forever (until the test ends)."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            client.recv(65536)
            try:
                client.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
                while not stop.is_set():
                    client.sendall(b"x")
                    stop.wait(pause)
            except OSError:
                pass
            client.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], stop


def test_a_dripping_response_is_cut_at_the_total_deadline():
    port, stop = _dripping_server(pause=0.2)
    try:
        exchange = send(method="POST", url=f"http://127.0.0.1:{port}/", headers={}, body=b"{}", timeout=1)
    finally:
        stop.set()
    assert exchange.status is None and exchange.error.startswith("timeout after 1s")
    assert exchange.duration_ms < 1500


def test_a_cut_response_does_not_poison_the_next_request_on_the_same_connection(receiver: Receiver):
    receiver.script("/big", statuses=[200], body=b"a" * 2_000_000)
    first = send(method="GET", url=receiver.url("/big"), headers={}, body=None, timeout=2, body_limit=1000)
    assert first.status == 200 and len(first.body) == 1000
    second = _send(receiver.url("/ok"))
    assert second.status == 204 and second.error is None


def test_a_refusal_at_connect_time_does_not_name_the_address(receiver: Receiver):
    with override_settings(OUTFLOW_ALLOW_PRIVATE_TARGETS=False):
        exchange = _send(receiver.url("/x").replace("127.0.0.1", "localhost"))
    assert "127.0.0.1" not in exchange.error and "::1" not in exchange.error


def _one_answer_server(answer: bytes) -> int:
    """A server that answers one request with these bytes, then closes."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        with listener:
            client, _ = listener.accept()
            with client:
                client.recv(65536)
                client.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_only_the_final_answers_headers_count_a_repeated_name_joined_under_its_first_spelling():
    port = _one_answer_server(
        b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
        b"HTTP/1.1 429 Too Many Requests\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nRetry-After: 7\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    exchange = send(method="POST", url=f"http://127.0.0.1:{port}/", headers={}, body=b"{}", timeout=2)
    assert exchange.status == 429
    assert exchange.headers == {
        "Set-Cookie": "a=1, b=2",
        "Retry-After": "7",
        "Content-Length": "0",
        "Connection": "close",
    }
    assert exchange.header("retry-after") == "7" and exchange.header("X-Interim") is None
