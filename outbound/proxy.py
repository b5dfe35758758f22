"""The egress proxy: where a proxied request is pinned, and which of curl's failures are the proxy's, not the target's.

Outflow resolves and checks the target itself and asks the proxy to connect to that checked address (curl's
CONNECT_TO carries it into the CONNECT line or the SOCKS request), so a name that resolves differently at the proxy
cannot reach what the SSRF guard refused. The URL's host name still goes in SNI and in Host.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import pycurl

from outbound.addresses import TargetRefused, allowed_addresses

_CURLE_PROXY = 97  # CURLE_PROXY (libcurl 7.73+): a SOCKS or proxy handshake failed; PROXY_ERROR says how
# SOCKS replies that speak of the target, not of the proxy (CURLproxycode values).
_TARGET_SOCKS_REPLIES = {
    14,  # CURLPX_REPLY_CONNECTION_REFUSED
    16,  # CURLPX_REPLY_HOST_UNREACHABLE
    17,  # CURLPX_REPLY_NETWORK_UNREACHABLE
    19,  # CURLPX_REPLY_TTL_EXPIRED
}
# CONNECT answers in which the proxy reports the target (unreachable, timed out), not a refusal of its own.
_TARGET_CONNECT_STATUSES = {502, 503, 504}


def proxy_connect_to(url: str, *, allow_private: bool) -> str:
    """curl's CONNECT_TO entry that sends the URL's host:port to its checked address. Raises TargetRefused."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused("url is not a valid URL") from error
    if not host:
        raise TargetRefused("url must name a host")
    address = allowed_addresses(host, port, allow_private=allow_private)[0]
    shown = f"[{address}]" if ipaddress.ip_address(address.split("%", 1)[0]).version == 6 else address
    return f"{host}:{port}:{shown}:{port}"


def proxy_failed(handle: pycurl.Curl, code: int) -> bool:
    """Whether a transfer failed at the proxy (unreachable, refusing, misconfigured) rather than at the target."""
    if code == pycurl.E_COULDNT_RESOLVE_PROXY:
        return True
    if code == _CURLE_PROXY:
        return handle.getinfo(pycurl.PROXY_ERROR) not in _TARGET_SOCKS_REPLIES
    connect_status = handle.getinfo(pycurl.HTTP_CONNECTCODE)
    if connect_status:
        return not 200 <= connect_status < 300 and connect_status not in _TARGET_CONNECT_STATUSES
    # No connection to the proxy was made (refused, timed out): the proxy is down or unreachable.
    return code in (pycurl.E_COULDNT_CONNECT, pycurl.E_OPERATION_TIMEDOUT) and handle.getinfo(pycurl.CONNECT_TIME) == 0


def proxy_reachable(proxy_url: str, *, timeout: float) -> bool:
    """Whether a TCP connection to the proxy opens (what /healthz reports of it)."""
    try:
        parts = urlsplit(proxy_url if "://" in proxy_url else f"http://{proxy_url}")
        # curl's default proxy port: 1080, or 443 for an https:// proxy.
        address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 1080))
        with socket.create_connection(address, timeout=timeout):
            return True
    except (OSError, ValueError):
        return False
