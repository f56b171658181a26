"""Connect to the address that was vetted: the link checker's transport, pinned per host.

Checking a name and then letting the HTTP client resolve it again leaves a gap: a DNS answer
that changes between the two (DNS rebinding) sends the request to an address never checked.
So each host is resolved once per run, through ``AddressPolicy.pick`` (``service/netguard.py``),
and the transport's network backend dials that address. The request itself is untouched: the
Host header, and for https the SNI and the certificate check, still name the host.
"""

from __future__ import annotations

import threading
import typing

import httpcore
import httpx

from secml_papers.service.netguard import AddressPolicy

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_and_port(url: httpx.URL) -> tuple[str, int]:
    """The host as the connection pool will name it (ASCII, IPv6 without brackets) and port."""
    host = url.raw_host.decode("ascii").lower()
    return host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)


class Pins:
    """The vetted address of each ``(host, port)`` of one run, resolved once, across threads.

    A refusal is remembered too, so a host is never resolved twice in a run.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._known: dict[tuple[str, int], str | Exception] = {}
        self._lock = threading.Lock()

    def vet(self, url: httpx.URL) -> str:
        """The address to dial for ``url``; raises ``Refused`` (or an ``OSError`` from DNS)."""
        return self.address(*host_and_port(url))

    def address(self, host: str, port: int) -> str:
        key = (host, port)
        with self._lock:
            known = self._known.get(key)
        if known is None:
            try:
                known = self._policy.pick(host, port)
            except Exception as err:  # Refused, OSError: remembered, raised for each asker
                known = err
            with self._lock:
                known = self._known.setdefault(key, known)
        if isinstance(known, Exception):
            raise known
        return known

    def pinned(self, host: str, port: int) -> str | None:
        """The address vetted for ``(host, port)``, or None when it was never vetted."""
        with self._lock:
            known = self._known.get((host.lower(), port))
        return known if isinstance(known, str) else None


class _PinnedBackend(httpcore.NetworkBackend):
    """Dials the pinned address of a host; a host nobody vetted is not dialled at all."""

    def __init__(self, pins: Pins) -> None:
        self._pins = pins
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        address = self._pins.pinned(host, port)
        if address is None:
            raise httpcore.ConnectError(f"{host}:{port} was not vetted by the link guard")
        return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    def connect_unix_socket(self, *args: object, **kwargs: object) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the link checker connects over TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport (its exception mapping, streaming) over a pinned backend.

    httpx does not take a network backend, so the pool it built is replaced by the same pool
    with ours; ``tests/test_ssrf_links.py`` checks that a name resolved to a stub's address
    reaches the stub with its Host header intact. No proxy from the environment is used: a
    proxy would resolve the name itself.
    """

    def __init__(self, pins: Pins) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,  # httpx's defaults
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_PinnedBackend(pins),
        )
