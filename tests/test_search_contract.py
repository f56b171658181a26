"""/search keeps its contract through issue 17's HTTP work: the same OpenAPI document, answers
and refusals as before it (tests/fixtures/search_contract.json, recorded at 4237ead with the
fake embedder), a lone client's query encoded without a hand-off and several clients' through
the workers, and ``serve --http/--loop`` on a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from secml_papers.corpus.errors import InputError
from secml_papers.index.embedding.batching import BatchingEmbedder
from secml_papers.service import cli_serve, querying
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder, free_port

CONTRACT = json.loads((Path(__file__).parent / "fixtures" / "search_contract.json").read_text())
# Fields a hit gained after the recording: shapes grow only by adding fields (DESIGN.md), so
# the recorded answers must still hold with these taken out, and nothing else may change.
ADDED = {"tags": []}  # the bundled list writes no badges: every hit's tags are empty


def _without_added(body: dict) -> dict:
    results = []
    for hit in body.get("results", []):
        for field, value in ADDED.items():
            assert hit.pop(field) == value, field
        results.append(hit)
    return {**body, "results": results}


def _schema_without_added(schema: dict) -> dict:
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in ADDED}
    return {**schema, "properties": properties} if "properties" in schema else schema


CLI = str(Path(sys.executable).with_name("secml-papers"))


class ParallelFake(FakeEmbedder):
    """The fake, with calls that may run side by side (as ONNX Runtime's)."""

    parallel_calls = 2


@pytest.fixture
def served(tmp_path: Path) -> tuple[TestClient, BatchingEmbedder]:
    embedder = BatchingEmbedder(ParallelFake())
    library = Library(Settings(index_dir=tmp_path / "index"), embedder)
    library.index()
    return TestClient(create_app(library)), embedder


def _refs(node: object, out: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                out.add(value.rsplit("/", 1)[1])
            else:
                _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def test_openapi_of_search_unchanged(served) -> None:
    client, _ = served
    document = client.get("/openapi.json").json()
    assert document["paths"]["/search"] == CONTRACT["openapi_search"]
    schemas = document["components"]["schemas"]
    for name, schema in CONTRACT["schemas"].items():  # SearchPublic, HitPublic, ErrorPublic
        assert _schema_without_added(schemas[name]) == schema, name
    found: set[str] = set()
    _refs(document["paths"]["/search"], found)
    assert "SearchPublic" in found and "ErrorPublic" in found


def test_same_answers_and_headers(served) -> None:
    client, _ = served
    for recorded in CONTRACT["answers"]:
        answer = client.get("/search", params=recorded["params"])
        assert answer.status_code == 200
        assert _without_added(answer.json()) == recorded["body"], recorded["params"]
        for header, value in recorded["headers"].items():  # the security headers too
            assert answer.headers[header] == value


def test_same_refusals(served) -> None:
    client, _ = served
    for recorded in CONTRACT["refusals"]:
        answer = client.get("/search", params=recorded["params"])
        assert (answer.status_code, answer.json()) == (recorded["status"], recorded["body"])
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_hit_dict_is_to_dict(fake_library: Library) -> None:
    hits = fake_library.index().search("adversarial examples backdoor", 20)
    assert hits
    assert [querying.hit_dict(h) for h in hits] == [h.to_dict() for h in hits]


def test_searchers_alone_only_after_the_same_connection() -> None:
    searchers = querying.Searchers()
    assert not searchers.arrive(("127.0.0.1", 1))  # a new connection is company at first
    searchers.leave()
    assert searchers.arrive(("127.0.0.1", 1))  # then it asks again, nobody else: alone
    assert not searchers.arrive(("127.0.0.1", 1))  # one still in flight
    searchers.leave()
    searchers.leave()
    assert not searchers.arrive(("127.0.0.1", 2))  # clients taking turns
    searchers.leave()
    assert not searchers.arrive(("127.0.0.1", 1))
    searchers.leave()
    assert not searchers.arrive(None)  # no connection known: never alone
    searchers.leave()
    assert not searchers.arrive(None)


def test_embed_now_only_when_idle_and_parallel() -> None:
    fake = ParallelFake()
    embedder = BatchingEmbedder(fake)
    vector = embedder.embed_now("randomized smoothing")
    assert vector is not None and embedder.inline == 1
    np.testing.assert_allclose(vector, fake.embed(["randomized smoothing"])[0])
    assert embedder.embed_now("randomized smoothing") is vector  # the cache answers
    assert BatchingEmbedder(FakeEmbedder()).embed_now("x") is None  # PyTorch-like: workers
    release = threading.Event()
    started = threading.Event()

    class Slow(ParallelFake):
        def embed(self, texts):
            started.set()
            release.wait(5)
            return super().embed(texts)

    busy = BatchingEmbedder(Slow())
    worker = threading.Thread(target=busy.embed, args=(["a", "b"],))
    worker.start()
    started.wait(5)
    assert busy.embed_now("while busy") is None  # the model is in use: ask the workers
    release.set()
    worker.join(5)
    assert busy.embed_now("once idle") is not None


def test_lone_connection_skips_the_hand_off(served) -> None:
    client, embedder = served
    for q in ("poisoning attacks", "evasion attacks", "model stealing"):
        assert client.get("/search", params={"q": q}).status_code == 200
    assert embedder.inline == 2  # TestClient is one connection: all but its first query
    calls = embedder.calls
    client.get("/search", params={"q": "bm25 only words", "mode": "bm25"})
    assert (embedder.inline, embedder.calls) == (2, calls)  # nothing to encode


def test_serve_passes_http_and_loop(monkeypatch, tmp_path: Path) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from secml_papers.service.cli import app

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **kw: seen.update(kw))
    args = ["--index-dir", str(tmp_path / "idx"), "serve", "--http", "h11", "--loop", "asyncio"]
    result = CliRunner().invoke(app, args, obj={"embedder": FakeEmbedder()})
    assert result.exit_code == 0, result.output
    assert (seen["http"], seen["loop"], seen["access_log"]) == ("h11", "asyncio", False)
    monkeypatch.setattr(cli_serve.importlib.util, "find_spec", lambda name: None)
    args[-3:] = ["httptools"]
    result = CliRunner().invoke(app, args, obj={"embedder": FakeEmbedder()})
    assert isinstance(result.exception, InputError)  # main(): one line, exit code 2
    assert str(result.exception) == (
        "--http httptools: httptools is not installed (pip install httptools)"
    )
    assert "serving" not in result.output  # refused before the model and index load


def _served_answers(index_dir: Path, options: list[str]) -> list[dict]:
    """``secml-papers serve`` with ``options`` on 127.0.0.1: a few searches' bodies."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SECML_PAPERS_INDEX_DIR": str(index_dir)}
    proc = subprocess.Popen(
        [CLI, "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while True:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "serve did not answer in 120 s"
                try:
                    client.get("/health").raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            answers = []
            for q in ("certified robustness via randomized smoothing", "membership inference"):
                for mode in ("hybrid", "dense"):
                    got = client.get("/search", params={"q": q, "k": 3, "mode": mode})
                    assert got.headers["content-security-policy"].startswith("default-src")
                    answers.append(got.json())
            assert client.get("/search", params={"q": "x", "k": 0}).status_code == 422
            return answers
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.real_model
def test_serve_options_on_a_real_server(real_library: Library, real_index_dir: Path) -> None:
    default = _served_answers(real_index_dir, [])
    plain = _served_answers(real_index_dir, ["--http", "h11", "--loop", "asyncio"])
    assert [[r["id"] for r in a["results"]] for a in default] == [
        [r["id"] for r in a["results"]] for a in plain
    ]
    assert "Randomized Smoothing" in default[0]["results"][0]["title"]
