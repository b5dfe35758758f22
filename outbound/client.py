"""The pooled outgoing HTTP client: one requests session per thread, SSRF-guarded at connect time."""

import threading
import time
from dataclasses import dataclass, field

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
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


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


_local = threading.local()


def session() -> requests.Session:
    """This thread's pooled session: keep-alive connections, no proxies from the environment, no retries."""
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        current.trust_env = False
        adapter = GuardedAdapter(pool_connections=64, pool_maxsize=4, max_retries=0)
        current.mount("http://", adapter)
        current.mount("https://", adapter)
        _local.session = current
    return current


@dataclass
class Exchange:
    """What one outgoing request got back: a status, or an error message that names no secret."""

    status: int | None = None
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""
    body_size: int = 0
    duration_ms: int = 0
    error: str | None = None


def _reason(error: BaseException) -> str:
    """The innermost cause of a transport error, without the URL (which may carry secrets)."""
    while isinstance(error, requests.RequestException) and error.args and isinstance(error.args[0], BaseException):
        error = error.args[0]
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
    auth=None,
    body_limit: int | None = None,
) -> Exchange:
    """Send one request with a total deadline, no redirects, reading at most body_limit bytes back."""
    limit = body_limit if body_limit is not None else settings.OUTFLOW_RESPONSE_BODY_LIMIT_BYTES
    started = time.monotonic()
    deadline = started + timeout
    exchange = Exchange()
    try:
        response = session().request(
            method,
            url,
            headers=headers,
            data=body,
            auth=auth,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        )
        with response:
            exchange.status = response.status_code
            exchange.headers = response.headers
            chunks, size = [], 0
            for chunk in response.iter_content(chunk_size=16384):
                if time.monotonic() > deadline:
                    raise requests.Timeout("response body not received within the deadline")
                if size < limit:
                    chunks.append(chunk[: limit - size])
                size += len(chunk)
                if size > limit * 16:
                    break
            exchange.body = b"".join(chunks)
            exchange.body_size = size
    except TargetRefused as error:
        exchange.error = f"refused target: {error}"
    except requests.Timeout as error:
        exchange.status = None
        exchange.error = f"timeout after {timeout:g}s: {_reason(error)}"
    except requests.exceptions.SSLError as error:
        exchange.error = f"TLS error: {_reason(error)}"
    except requests.ConnectionError as error:
        exchange.status = None
        exchange.error = f"connection error: {_reason(error)}"
    except requests.RequestException as error:
        exchange.error = f"request error: {_reason(error)}"
    exchange.duration_ms = int((time.monotonic() - started) * 1000)
    return exchange
