"""Which addresses a link check may connect to: the guard against server-side request forgery.

A link in a pull request is text anyone can write, and ``POST /check-pr`` turns it into a
request sent from the server. Without a guard, an entry linking to ``http://127.0.0.1:8080/``,
``http://169.254.169.254/`` or ``http://10.0.0.5/`` makes the server probe what only it can
reach. So a host is resolved once, every address it resolves to must be public, and the
checker dials the address that was vetted (``service/links.py``), never a second DNS answer.

The policy is pure given its resolver: ``why_not_public`` looks at one address, and
``AddressPolicy.pick`` resolves a host through an injected resolver (the system's by default),
so the tests can stand a local server in for a public site.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
# Checked before ``is_global``, whose answers differ across Python versions (3.11 calls
# ff02::1 and 64:ff9b::7f00:1 global); the first that holds names the refusal.
_KINDS: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda a: a.is_unspecified),
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("reserved", lambda a: a.is_reserved),
    ("site-local", lambda a: isinstance(a, ipaddress.IPv6Address) and a.is_site_local),
    ("private", lambda a: a.is_private),
)


class Refused(Exception):
    """A link the guard will not let the checker connect to; ``str(err)`` says why."""


def embedded_ipv4(address: IPAddress) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 one carries, with the name of the form, or None.

    >>> embedded_ipv4(ipaddress.ip_address("::ffff:127.0.0.1"))
    ('IPv4-mapped', IPv4Address('127.0.0.1'))
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress | str) -> str | None:
    """Why ``address`` is not a public address (a few words), or None when it is.

    >>> why_not_public("10.1.2.3")
    'a private address'
    >>> why_not_public("::ffff:169.254.169.254")
    'a link-local address (IPv4-mapped 169.254.169.254)'
    >>> why_not_public("93.184.215.14") is None
    True
    """
    if isinstance(address, str):
        address = ipaddress.ip_address(address)
    inner = embedded_ipv4(address)
    if inner is not None:
        form, v4 = inner
        reason = why_not_public(v4)  # the IPv4 address decides: it is where packets go
        return None if reason is None else f"{reason} ({form} {v4})"
    for kind, holds in _KINDS:
        if holds(address):
            return f"a {kind} address"
    if not address.is_global:
        return "not a public address"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself, in every form ``inet_aton`` accepts, or None.

    Besides dotted quads and IPv6 (bracketed or not), one to four parts, each decimal, octal
    (leading 0) or hex (0x), as ``http://2130706433/`` and ``http://0x7f.1/`` are read:

    >>> literal_address("0x7f.1")
    IPv4Address('127.0.0.1')
    """
    host = host.strip().removeprefix("[").removesuffix("]")
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part[1:], 8))
            else:
                numbers.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
    *head, last = numbers
    if any(not 0 <= n <= 255 for n in head) or not 0 <= last < 256 ** (4 - len(head)):
        return None
    value = last
    for i, n in enumerate(head):
        value |= n << (24 - 8 * i)
    return ipaddress.IPv4Address(value)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolves ``host`` to (IPv4 and IPv6), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class AddressPolicy:
    """Where a run of link checks may connect.

    ``allow_private`` lets every address through (``check-pr --allow-private-links``, for a
    maintainer on their own machine). ``public_endpoints`` are ``(address, port)`` pairs
    counted as public: the tests' stand-ins for public sites, never set by a setting.
    """

    allow_private: bool = False
    resolver: Resolver = system_resolver
    public_endpoints: frozenset[tuple[str, int]] = frozenset()

    def pick(self, host: str, port: int) -> str:
        """The vetted address to dial for ``host``; raises ``Refused`` when any is not public.

        Every address the host resolves to is checked, not only the first, so a name that
        answers with a public and a private address is refused as a whole.
        """
        literal = literal_address(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            found = self.resolver(host, port)  # an OSError is the caller's "could not connect"
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
        if not addresses:
            raise Refused(f"{host} resolves to no address")
        for address in addresses:
            if self.allow_private or (str(address), port) in self.public_endpoints:
                continue
            reason = why_not_public(address)
            if reason is None:
                continue
            if literal is None:
                raise Refused(f"{host} resolves to {address}, {reason}")
            if host == str(literal):
                raise Refused(f"{host} is {reason}")
            raise Refused(f"{host} is {literal}, {reason}")
        return str(addresses[0])
