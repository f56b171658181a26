"""``--list URL``: downloaded, cached with its ETag, revalidated, and used offline or when down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from secml_papers.corpus import storage
from secml_papers.corpus.errors import ListError
from secml_papers.corpus.storage import read_list
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings
from tests import enrich_stubs
from tests.conftest import free_port
from tests.enrich_stubs import Slow

stub_server, stub = enrich_stubs.stub_server, enrich_stubs.stub  # the stub's fixtures
EXE = Path(sys.executable).with_name("secml-papers")

LIST_V1 = (
    "# Remote List\n\n## Attacks\n\n"
    '- A. Author et al. [**"Remote Paper One"**](https://x.org/1) @ **CCS 2020**.\n'
)
LIST_V2 = LIST_V1 + '- B. Author [**"Remote Paper Two"**](https://x.org/2) @ **S&P 2021**.\n'


def serve_list(server: HTTPServer, body: str = LIST_V1, etag: str = '"v1"') -> list[dict]:
    """Answer /list.md with ``body``, or 304 when the client already holds ``etag``."""
    seen: list[dict] = []

    def handle(request: Request) -> Response:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": "Wed, 01 May 2024 10:00:00 GMT"}
        return Response(body, content_type="text/markdown; charset=utf-8", headers=headers)

    server.expect_request("/list.md").respond_with_handler(handle)
    return seen


def test_first_fetch_then_304_uses_the_cache_then_a_change(stub, tmp_path) -> None:
    url = stub.url_for("/list.md")
    seen = serve_list(stub)
    first = read_list(url, cache_dir=tmp_path)
    assert first.text == LIST_V1 and first.name == "list.md" and first.location == url
    assert first.warnings == () and "If-None-Match" not in seen[0]
    cached = list((tmp_path / "lists").iterdir())
    assert sorted(p.suffix for p in cached) == [".json", ".md"]
    meta = json.loads(next(p for p in cached if p.suffix == ".json").read_text())
    assert meta["etag"] == '"v1"' and meta["url"] == url

    second = read_list(url, cache_dir=tmp_path)
    assert second.text == LIST_V1 and second.warnings == ()
    assert seen[1]["If-None-Match"] == '"v1"'
    assert seen[1]["If-Modified-Since"] == "Wed, 01 May 2024 10:00:00 GMT"

    stub.clear()
    serve_list(stub, LIST_V2, '"v2"')
    third = read_list(url, cache_dir=tmp_path)
    assert third.text == LIST_V2
    assert read_list(url, cache_dir=tmp_path, offline=True).text == LIST_V2


@pytest.fixture
def own_server():
    """A server of this test's own, so that stopping it makes its URL refuse connections."""
    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.start()
    yield server
    if server.is_running():
        server.stop()


def test_server_down_with_a_cache_warns_and_uses_the_copy(own_server, tmp_path) -> None:
    url = own_server.url_for("/list.md")
    serve_list(own_server)
    read_list(url, cache_dir=tmp_path)
    own_server.stop()
    fallback = read_list(url, cache_dir=tmp_path)
    assert fallback.text == LIST_V1
    (warning,) = fallback.warnings
    assert warning.startswith(f"cannot fetch the list {url}: cannot connect")
    assert "using the copy cached on 20" in warning

    env = {**os.environ, "SECML_PAPERS_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [str(EXE), "--list", url, "papers", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert [p["title"] for p in json.loads(result.stdout)["papers"]] == ["Remote Paper One"]
    assert "warning: cannot fetch the list" in result.stderr
    assert "using the copy cached on" in " ".join(result.stderr.split())


def test_server_down_without_a_cache_is_one_line_and_exit_2(tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}/list.md"
    env = {**os.environ, "SECML_PAPERS_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [str(EXE), "--list", url, "papers"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot fetch the list {url}: cannot connect")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_404_is_a_clear_error(stub, tmp_path) -> None:
    stub.expect_request("/gone.md").respond_with_data("Not Found", status=404)
    url = stub.url_for("/gone.md")
    with pytest.raises(ListError) as err:
        read_list(url, cache_dir=tmp_path)
    assert str(err.value) == f"cannot fetch the list {url}: HTTP 404 NOT FOUND"
    assert not (tmp_path / "lists").exists()


def test_too_large_declared_or_streamed(stub, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(storage, "MAX_LIST_BYTES", 1_000)
    stub.expect_request("/big.md").respond_with_data("x" * 5_000, content_type="text/plain")

    def chunks():
        for _ in range(50):
            yield b"y" * 100

    stub.expect_request("/stream.md").respond_with_response(
        Response(chunks(), content_type="text/plain")
    )
    for name in ("big.md", "stream.md"):
        url = stub.url_for(f"/{name}")
        with pytest.raises(ListError, match=r"is larger than 0 MB"):
            read_list(url, cache_dir=tmp_path)
    assert [r.path for r, _ in stub.log] == ["/big.md", "/stream.md"]


def test_not_utf8_html_and_timeout(stub, tmp_path) -> None:
    stub.expect_request("/latin1.md").respond_with_data(
        "Caf\xe9 list".encode("latin-1"), content_type="text/plain"
    )
    stub.expect_request("/page").respond_with_data("<html></html>", content_type="text/html")

    slow = Slow(1.5, lambda: Response(LIST_V1))
    stub.expect_request("/slow.md").respond_with_handler(slow)
    with pytest.raises(ListError, match="is not UTF-8 text"):
        read_list(stub.url_for("/latin1.md"), cache_dir=tmp_path)
    with pytest.raises(ListError, match="is an HTML page, not a Markdown file"):
        read_list(stub.url_for("/page"), cache_dir=tmp_path)
    with pytest.raises(ListError, match=r"no answer within 0\.5 s"):
        read_list(stub.url_for("/slow.md"), cache_dir=tmp_path, timeout=0.5)
    slow.wait()


def test_offline_uses_only_the_cache(stub, tmp_path) -> None:
    url = stub.url_for("/list.md")
    serve_list(stub)
    with pytest.raises(ListError, match=r"offline, and the list .* was never downloaded"):
        read_list(url, cache_dir=tmp_path, offline=True)
    assert stub.log == []
    read_list(url, cache_dir=tmp_path)
    assert read_list(url, cache_dir=tmp_path, offline=True).text == LIST_V1
    assert len(stub.log) == 1


def test_a_url_list_gets_a_stable_readable_index_dir(tmp_path) -> None:
    url = "https://raw.githubusercontent.com/someone/awesome-ml-security/main/README.md"
    one = Settings(list_source=url, cache_dir=tmp_path).resolved_index_dir()
    two = Settings(list_source=url, cache_dir=tmp_path).resolved_index_dir()
    other = Settings(list_source=url.replace("main", "dev"), cache_dir=tmp_path)
    assert one == two and one.parent == tmp_path / "indexes"
    assert one.name.startswith("awesome-ml-security-readme-")
    assert other.resolved_index_dir() != one
    plain = Settings(list_source="http://127.0.0.1:8000/lists/papers.md").resolved_index_dir()
    assert plain.name.startswith("127-0-0-1-papers-")


def test_the_library_serves_a_url_list(stub, tmp_path, fake_embedder) -> None:
    serve_list(stub)
    settings = Settings(
        list_source=stub.url_for("/list.md"), cache_dir=tmp_path, data_dir=tmp_path / "data"
    )
    messages: list[str] = []
    library = Library(settings, fake_embedder, messages.append)
    assert [p.title for p in library.paper_list.papers] == ["Remote Paper One"]
    assert library.index().papers[0].title == "Remote Paper One"
    assert library.store.directory.parent == tmp_path / "indexes"
    assert messages == ["building the index in " + str(library.store.directory)]
