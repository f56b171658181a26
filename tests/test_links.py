"""The link checker against a real stub HTTP server on 127.0.0.1; nothing touches the internet.

`127.0.0.1` and `localhost` reach the same stub but are different host names, which is how a
redirect to "another host" is produced without leaving the machine.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from urllib.parse import urlsplit

import pytest

from secml_papers.service.links import LinkResult, check_links
from secml_papers.service.netguard import AddressPolicy

# The stubs stand in for public sites, so the address guard lets loopback through here;
# what it refuses is tested in test_ssrf_links.py and test_ssrf_api.py.
LOCAL = AddressPolicy(allow_private=True)


@dataclass
class Stub:
    port: int
    log: list[tuple[str, str, str, float]] = field(default_factory=list)  # method, host, path, t

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits(self, path: str) -> list[str]:
        """The methods of the requests that reached `path` (query string included)."""
        return [method for method, _, p, _ in self.log if p == path]


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def _answer(self, status: int, headers: dict[str, str] | None = None) -> None:
            body = b"" if self.command == "HEAD" else f"status {status}\n".encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            stub.log.append((self.command, host, self.path, time.monotonic()))
            path = urlsplit(self.path).path
            if path == "/ok":
                self._answer(200)
            elif path == "/missing":
                self._answer(404)
            elif path == "/broken":
                self._answer(500)
            elif path == "/no-head":
                self._answer(405 if self.command == "HEAD" else 200)
            elif path == "/hangup":
                if self.command == "HEAD":
                    self.close_connection = True  # drop the connection without answering
                else:
                    self._answer(200)
            elif path == "/moved":
                self._answer(301, {"Location": "/ok?from=moved"})
            elif path == "/away":
                self._answer(302, {"Location": stub.url("/ok?from=away", host="localhost")})
            elif path == "/loop-a":
                self._answer(302, {"Location": "/loop-b"})
            elif path == "/loop-b":
                self._answer(302, {"Location": "/loop-a"})
            elif path == "/slow":
                time.sleep(2)
                self._answer(200)
            else:
                self._answer(404)

        do_HEAD = _route
        do_GET = _route

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in /slow must not hold up teardown

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # the client hung up on /slow; that is the point of the test


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = _QuietServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Stub(port=server.server_address[1])
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fast(links: list[tuple[str, int]], **options: object) -> list[LinkResult]:
    options = {"timeout": 2.0, "per_host_interval": 0.0, "policy": LOCAL, **options}
    return check_links(links, **options)  # type: ignore[arg-type]


def test_every_kind_of_link(stub: Stub) -> None:
    links = [
        (stub.url("/ok"), 1),
        (stub.url("/missing"), 2),
        (stub.url("/broken"), 3),
        (stub.url("/no-head"), 4),
        (stub.url("/hangup"), 5),
        (stub.url("/moved"), 6),
        (stub.url("/away"), 7),
        (stub.url("/loop-a"), 8),
        (f"http://127.0.0.1:{_closed_port()}/gone", 9),
        ("mailto:someone@example.org", 10),
        ("", 11),
        ("http://exa mple.org/paper", 12),
        ("http://:80/paper", 13),
    ]
    results = _fast(links)
    got = [(r.line, r.kind, r.status) for r in results]
    assert got == [
        (1, "ok", 200),
        (2, "dead", 404),
        (3, "dead", 500),
        (4, "ok", 200),
        (5, "ok", 200),
        (6, "redirect-same-host", 200),
        (7, "redirect-other-host", 200),
        (8, "error", 302),
        (9, "error", None),
        (10, "skipped", None),
        (11, "skipped", None),
        (12, "error", None),
        (13, "error", None),
    ]
    by_line = {r.line: r for r in results}
    assert by_line[2].detail == "404 Not Found"
    assert by_line[6].final_url == stub.url("/ok?from=moved")
    assert "(same host)" in by_line[6].detail
    assert (
        by_line[7].detail == f"redirects to {stub.url('/ok?from=away', 'localhost')} (another host)"
    )
    assert "loop" in by_line[8].detail
    problems = {r.line for r in results if r.is_problem}
    assert problems == {2, 3, 7, 8, 9, 12, 13}
    # HEAD was refused or dropped, so GET was tried; GET bodies are never needed
    assert stub.hits("/no-head") == ["HEAD", "GET"]
    assert stub.hits("/hangup") == ["HEAD", "GET"]
    assert stub.hits("/ok") == ["HEAD"]
    assert results[0].to_dict() == {
        "url": stub.url("/ok"),
        "line": 1,
        "status": 200,
        "kind": "ok",
        "detail": "200 OK",
        "final_url": stub.url("/ok"),
        "problem": False,
    }


def test_timeout_is_reported_not_raised(stub: Stub) -> None:
    started = time.monotonic()
    [result] = _fast([(stub.url("/slow"), 3)], timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert (result.kind, result.status, result.line) == ("timeout", None, 3)
    assert result.detail == "timed out after 0.5 s"
    assert result.is_problem


def test_per_host_interval_is_respected(stub: Stub) -> None:
    interval = 0.2
    links = [(stub.url(f"/ok?n={n}"), n) for n in range(5)]
    results = check_links(
        links, timeout=2.0, per_host_interval=interval, concurrency=4, policy=LOCAL
    )
    assert [r.kind for r in results] == ["ok"] * 5
    arrivals = sorted(t for _, host, _, t in stub.log if host == "127.0.0.1")
    assert len(arrivals) == 5
    gaps = [b - a for a, b in pairwise(arrivals)]
    assert min(gaps) >= interval - 0.05  # jitter between leaving the pacer and arriving


def test_interval_is_per_host_not_global(stub: Stub) -> None:
    links = [(stub.url("/ok?h=1"), 1), (stub.url("/ok?h=2", host="localhost"), 2)]
    started = time.monotonic()
    results = check_links(links, timeout=2.0, per_host_interval=1.0, concurrency=2, policy=LOCAL)
    assert [r.kind for r in results] == ["ok", "ok"]
    assert time.monotonic() - started < 0.9


def test_cap_skips_the_rest(stub: Stub) -> None:
    links = [(stub.url(f"/ok?n={n}"), n) for n in range(5)]
    results = _fast(links, max_requests=3, concurrency=1)
    assert [r.kind for r in results] == ["ok", "ok", "ok", "skipped", "skipped"]
    assert "cap" in results[-1].detail
    assert not results[-1].is_problem
    assert len(stub.log) == 3


def test_cap_counts_redirect_hops(stub: Stub) -> None:
    [result] = _fast([(stub.url("/moved"), 1)], max_requests=1)
    assert result.kind == "skipped"
    assert len(stub.log) == 1


def test_duplicates_are_requested_once(stub: Stub) -> None:
    url = stub.url("/missing")
    results = _fast([(url, 4), (stub.url("/ok"), 5), (url, 9), (f" {url} ", 12)])
    assert [(r.line, r.kind, r.status) for r in results] == [
        (4, "dead", 404),
        (5, "ok", 200),
        (9, "dead", 404),
        (12, "dead", 404),
    ]
    assert stub.hits("/missing") == ["HEAD"]


def test_nothing_to_check() -> None:
    assert check_links([]) == []
