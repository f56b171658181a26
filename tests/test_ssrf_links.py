"""The link checker's guard end to end against stub servers on 127.0.0.1: which hops are
vetted, that a host is resolved once, and that the connection goes to the vetted address."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from secml_papers.service.links import check_links
from secml_papers.service.netguard import AddressPolicy


@dataclass
class Counting:
    """A server on 127.0.0.1 that logs every request; ``redirects`` maps a path to a Location."""

    port: int = 0
    redirects: dict[str, str] = field(default_factory=dict)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # method, Host, path

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@contextmanager
def counting_server(redirects: dict[str, str] | None = None) -> Iterator[Counting]:
    state = Counting(redirects=dict(redirects or {}))

    class Handler(BaseHTTPRequestHandler):
        def _route(self) -> None:
            state.log.append((self.command, self.headers.get("Host", ""), self.path))
            location = state.redirects.get(self.path)
            self.send_response(302 if location else 200)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET = _route

        def log_message(self, *args: object) -> None:
            return None

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:  # closed on the way out
        server.daemon_threads = True
        state.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        try:
            yield state
        finally:
            server.shutdown()  # returns once serve_forever has stopped


def _check(links: list[str], policy: AddressPolicy):
    pairs = [(url, n) for n, url in enumerate(links, start=1)]
    return check_links(pairs, timeout=2.0, per_host_interval=0.0, policy=policy)


def test_the_vetted_address_is_dialled_with_the_host_header_intact() -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]  # what DNS said for the paper's site, once

    with counting_server({"/moved": "/ok"}) as site:
        policy = AddressPolicy(
            resolver=resolve, public_endpoints=frozenset({("127.0.0.1", site.port)})
        )
        links = [site.url("/ok", "paper.example"), site.url("/moved", "paper.example")]
        results = _check(links, policy)
    assert [r.kind for r in results] == ["ok", "redirect-same-host"]
    assert {host for _, host, _ in site.log} == {f"paper.example:{site.port}"}
    assert asked == ["paper.example"]  # one answer per run, for every request and hop


def test_a_name_that_resolves_to_loopback_is_refused_unrequested() -> None:
    with counting_server() as internal:
        policy = AddressPolicy(resolver=lambda host, port: ["127.0.0.1"])
        [result] = _check([internal.url("/admin", "intranet.example")], policy)
    assert (result.kind, result.status, result.is_problem) == ("refused", None, True)
    assert result.detail == (
        "not requested: intranet.example resolves to 127.0.0.1, a loopback address; "
        "link checks reach only public addresses"
    )
    assert internal.log == []


def test_every_redirect_hop_is_vetted() -> None:
    with counting_server() as internal, counting_server() as site:
        site.redirects["/go"] = internal.url("/internal-admin")
        site.redirects["/go-by-name"] = internal.url("/internal-admin", "localhost")
        policy = AddressPolicy(public_endpoints=frozenset({("127.0.0.1", site.port)}))
        results = _check([site.url("/go"), site.url("/go-by-name")], policy)
    assert [r.kind for r in results] == ["refused", "refused"]
    assert results[0].final_url == internal.url("/internal-admin")
    assert results[0].detail.startswith(
        f"redirect not followed: {site.url('/go')} answered 302 to {internal.url('/internal-admin')}"
    )
    assert "127.0.0.1 is a loopback address" in results[0].detail
    assert "localhost resolves to" in results[1].detail
    assert sorted(path for _, _, path in site.log) == ["/go", "/go-by-name"]
    assert internal.log == []


def test_a_failed_lookup_is_a_connection_error() -> None:
    def resolve(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    [result] = _check(["http://nowhere.example/paper"], AddressPolicy(resolver=resolve))
    assert (result.kind, result.status) == ("error", None)
    assert "Name or service not known" in result.detail


def test_allow_private_reaches_loopback() -> None:
    with counting_server() as mine:
        [result] = _check([mine.url("/ok")], AddressPolicy(allow_private=True))
    assert result.kind == "ok"
    assert [path for _, _, path in mine.log] == ["/ok"]
