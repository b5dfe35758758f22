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


class _GuardedConnectionMixin:
    """Connects only to addresses checked at this moment (no second lookup for DNS rebinding to exploit)."""

    def _new_conn(self):
        addresses = allowed_addresses(self._dns_host, self.port, allow_private=settings.OUTFLOW_ALLOW_PRIVATE_TARGETS)
        last_error: OSError | None = None
        for address in addresses:
            try:
                return connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(self, f"connect to {self.host} timed out") from error
            except OSError as error:
                last_error = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


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


@dataclass
class Exchange:
    """What one outgoing request got back: a status, or an error message that names no secret."""

    status: int | None = None
    headers: HTTPHeaderDict = field(default_factory=HTTPHeaderDict)
    body: bytes = b""
    body_size: int = 0
    duration_ms: int = 0
    error: str | None = None


class _BodyTimeout(Exception):
    pass


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
    """Send one request with a total deadline, no redirects, reading at most body_limit bytes back."""
    limit = body_limit if body_limit is not None else settings.OUTFLOW_RESPONSE_BODY_LIMIT_BYTES
    started = time.monotonic()
    deadline = started + timeout
    exchange = Exchange()
    try:
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
        try:
            exchange.status = response.status
            exchange.headers = response.headers
            chunks, size = [], 0
            for chunk in response.stream(16384):
                if time.monotonic() > deadline:
                    raise _BodyTimeout("response body not received within the deadline")
                if size < limit:
                    chunks.append(chunk[: limit - size])
                size += len(chunk)
                if size > limit * 16:
                    break
            exchange.body = b"".join(chunks)
            exchange.body_size = size
        finally:
            response.release_conn()
    except TargetRefused as error:
        exchange.error = f"refused target: {error}"
    except NewConnectionError as error:  # before timeouts: urllib3 derives it from ConnectTimeoutError
        exchange.status = None
        exchange.error = f"connection error: {_reason(error)}"
    except (Urllib3Timeout, _BodyTimeout) as error:
        exchange.status = None
        exchange.error = f"timeout after {timeout:g}s: {_reason(error)}"
    except SSLError as error:
        exchange.error = f"TLS error: {_reason(error)}"
    except OSError as error:
        exchange.status = None
        exchange.error = f"connection error: {_reason(error)}"
    except HTTPError as error:
        exchange.status = None
        exchange.error = f"request error: {_reason(error)}"
    exchange.duration_ms = int((time.monotonic() - started) * 1000)
    return exchange
