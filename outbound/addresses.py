"""SSRF address policy: which URLs and IP addresses an outgoing request may reach (pure, no Django)."""

import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """The URL is not an allowed target; the message is safe to show to the customer."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        # IPv6 forms that carry an IPv4 address are judged by that address too.
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if any(inner is not None and not is_public_address(str(inner)) for inner in embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"host {host!r} does not resolve") from error
    return list(dict.fromkeys(info[4][0] for info in infos))


def allowed_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve host once and return the addresses to connect to, refusing any non-global one."""
    addresses = resolve(host, port)
    if not allow_private:
        refused = [address for address in addresses if not is_public_address(address)]
        if refused:
            # The address is not named: a tenant could otherwise map internal DNS through the refusals.
            raise TargetRefused(f"host {host!r} is not a public address")
    return addresses


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse a URL that is not http(s) with a host, or whose host resolves to a non-public address."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as error:
        raise TargetRefused("url is not a valid URL") from error
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("url must use http or https")
    if not hostname:
        raise TargetRefused("url must name a host")
    if parts.username or parts.password:
        raise TargetRefused("url must not carry credentials; use a saved credential")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused("url has an invalid port") from error
    allowed_addresses(hostname, port, allow_private=allow_private)
