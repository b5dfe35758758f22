"""The pooled outgoing HTTP client: urllib3 pools per thread, SSRF-guarded at connect time."""

import threading
import time
from dataclasses import dataclass, field

import certifi
from django.conf import settings
from urllib3 import HTTPHeaderDict, PoolManager, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import connection

from outbound.addresses import TargetRefused, allowed_addresses
from outbound.deadline import deadline_begin, deadline_end, deadline_guard, deadline_remaining


class _GuardedConnectionMixin:
    """Connects only to addresses checked at this moment (no second lookup for DNS rebinding to exploit)."""

    def _new_conn(self):
        addresses = allowed_addresses(self._dns_host, self.port, allow_private=settings.OUTFLOW_ALLOW_PRIVATE_TARGETS)
        last_error: OSError | None = None
        for address in addresses:
            # Each address gets what is left of the attempt's deadline, not a fresh connect timeout.
            remaining = deadline_remaining()
            if remaining is not None and remaining <= 0:
                raise ConnectTimeoutError(self, f"connect to {self.host} timed out")
            timeout = self.timeout if remaining is None else min(self.timeout, remaining)
            try:
                return connection.create_connection(
                    (address, self.port),
                    timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(self, f"connect to {self.host} timed out") from error
            except OSError as error:
                last_error = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")

    def request(self, *args, **kwargs):
        if self.sock is None:
            self.connect()
        deadline_guard(self.sock)
        return super().request(*args, **kwargs)


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_local = threading.local()


def pools() -> PoolManager:
    """This thread's keep-alive pools (no proxies, no retries, verified TLS)."""
    current = getattr(_local, "pools", None)
    if current is None:
        current = PoolManager(num_pools=64, maxsize=4, retries=False, ca_certs=certifi.where())
        current.pool_classes_by_scheme = {"http": _GuardedHTTPConnectionPool, "https": _GuardedHTTPSConnectionPool}
        _local.pools = current
    return current


def without_headers(headers: dict[str, str], names) -> dict[str, str]:
    """The headers less any of these names, compared case-insensitively (so they are not sent twice)."""
    dropped = {name.lower() for name in names}
    return {name: value for name, value in headers.items() if name.lower() not in dropped}


@dataclass
class Exchange:
    """What one outgoing request got back: a status, or an error message that names no secret."""

    status: int | None = None
    headers: HTTPHeaderDict = field(default_factory=HTTPHeaderDict)
    body: bytes = b""
    body_size: int = 0
    duration_ms: int = 0
    error: str | None = None


def _reason(error: BaseException) -> str:
    """The cause of a transport error, without the URL (which may carry secrets)."""
    error = getattr(error, "reason", None) or error
    # urllib3 prefixes messages with the pool or connection, "Pool(host=…, port=…): message".
    return str(error).split("): ", 1)[-1]


def send(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    body_limit: int | None = None,
) -> Exchange:
    """Send one request within a total deadline, no redirects, reading at most body_limit bytes back."""
    limit = body_limit if body_limit is not None else settings.OUTFLOW_RESPONSE_BODY_LIMIT_BYTES
    started = time.monotonic()
    deadline_begin(started + timeout)
    exchange = Exchange()
    try:
        _exchange(exchange, method=method, url=url, headers=headers, body=body, timeout=timeout, limit=limit)
    except TargetRefused as error:
        exchange.error = f"refused target: {error}"
    except NewConnectionError as error:  # before timeouts: urllib3 derives it from ConnectTimeoutError
        exchange.error = f"connection error: {_reason(error)}"
    except Urllib3Timeout as error:
        exchange.error = f"timeout after {timeout:g}s: {_reason(error)}"
    except SSLError as error:
        exchange.error = f"TLS error: {_reason(error)}"
    except (OSError, HTTPError) as error:
        exchange.error = f"connection error: {_reason(error)}"
    except (UnicodeError, ValueError) as error:
        exchange.error = f"request not sendable: {type(error).__name__}"
    if deadline_end():
        exchange.status, exchange.error = None, f"timeout after {timeout:g}s: no complete response within the deadline"
    if exchange.error:
        exchange.status = None
    exchange.duration_ms = int((time.monotonic() - started) * 1000)
    return exchange


def _exchange(exchange: Exchange, *, method, url, headers, body, timeout: float, limit: int) -> None:
    response = pools().urlopen(
        method,
        url,
        body=body,
        headers=headers,
        timeout=Timeout(connect=timeout, read=timeout),
        redirect=False,
        retries=False,
        preload_content=False,
    )
    complete = False
    try:
        exchange.status = response.status
        exchange.headers = response.headers
        chunks, size = [], 0
        for chunk in response.stream(16384):
            if size < limit:
                chunks.append(chunk[: limit - size])
            size += len(chunk)
            if size > limit * 16:
                break
        else:
            complete = True
        exchange.body = b"".join(chunks)
        exchange.body_size = size
    finally:
        if not complete:
            # Unread bytes left on the socket would be the next request's "response": never reuse it.
            response.close()
        response.release_conn()
