"""Refuse connections to private, loopback, link-local and other non-public addresses.

A URL check alone is not enough: a host name can resolve to a public address when checked and a
private one when connected (DNS rebinding), and any redirect can point anywhere. So the guard
sits where addresses are actually used: a resolver that filters what aiohttp connects to, and a
socket factory that refuses any non-public address right before a socket is made (this also
covers IP-literal URLs, which aiohttp never passes to the resolver).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddressError(OSError):
    """A connection was refused because the address is not public."""

    def __init__(self, host: str) -> None:
        super().__init__(f"refused: {host} resolves to a private address")
        self.host = host


def is_public_address(ip: str | IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0] if isinstance(ip, str) else ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 and 2002:0a00:0001:: reach IPv4 hosts; judge the IPv4 address instead.
        mapped = addr.ipv4_mapped or addr.sixtofour
        if mapped is not None:
            return is_public_address(mapped)
        if addr.teredo is not None:
            return False
    return addr.is_global and not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    )


def literal_address(host: str) -> IPAddress | None:
    """The address if ``host`` is an IP literal (brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_host(host: str) -> None:
    """Raise :class:`PrivateAddressError` if ``host`` is a non-public IP literal.

    Host names are left to :class:`GuardedResolver`; this gives IP-literal URLs the same clear
    error before any connection is tried.
    """
    addr = literal_address(host)
    if addr is not None and not is_public_address(addr):
        raise PrivateAddressError(host)


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver but refuses names with any non-public address.

    A name with mixed public and private answers is refused as a whole: that mix is what
    rebinding attacks look like, and connecting to "just the public ones" would still leak the
    probe.
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not results or any(not is_public_address(r["host"]) for r in results):
            raise PrivateAddressError(host)
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(addr_info: tuple[Any, ...]) -> socket.socket:
    """aiohttp ``socket_factory``: the last check, on the exact address about to be dialled."""
    family, type_, proto, _canonname, sockaddr = addr_info
    if not is_public_address(str(sockaddr[0])):
        raise PrivateAddressError(str(sockaddr[0]))
    return socket.socket(family=family, type=type_, proto=proto)


def find_refusal(exc: BaseException | None) -> PrivateAddressError | None:
    """The :class:`PrivateAddressError` behind an aiohttp connection error, if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, PrivateAddressError):
            return exc
        nested = getattr(exc, "os_error", None)
        if isinstance(nested, PrivateAddressError):
            return nested
        exc = exc.__cause__ or exc.__context__
    return None
