"""perf_query's layers: what each layer of a /search request costs, without the model.

The model's share is measured beside the HTTP runs (the baseline); everything else a request
goes through is timed here with a stub embedder (random vectors, microseconds), where the
machine's noise is small against what is measured:

* in this process, the app called as ASGI (no socket, no client library): as served, without
  each of its middleware, and the handler's own parts (the hand-off of the query to the
  model's worker thread and back, the search, the response's validation and JSON);
* over a real socket, one keep-alive client: the same app served by uvicorn with each of its
  HTTP parsers (h11, httptools) and event loops (asyncio; uvloop when installed, it is no
  dependency), and a bare ASGI app that answers the same bytes (uvicorn, the socket and the
  client alone).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import orjson
from pydantic import TypeAdapter

from bench.common.measure import median
from bench.common.processes import RandomEmbedder, free_port
from bench.common.serving import http_load
from secml_papers.index.embedding.batching import BatchingEmbedder
from secml_papers.service import schemas
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

ROOT = Path(__file__).resolve().parents[3]

# A served app with the stub embedder: argv = root, settings as JSON, port, loop, http, app kind,
# the answer's body (for the bare app), the model's name.
STUB_SERVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import uvicorn
from bench.common.processes import RandomEmbedder
from secml_papers.index.embedding.batching import BatchingEmbedder
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings
from pathlib import Path
raw = json.loads(sys.argv[2])
settings = Settings(**{k: Path(v) if k.endswith("dir") or k == "abstracts" else v
                       for k, v in raw.items()})
port, loop, http, kind = int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
class ParallelStub(RandomEmbedder):
    parallel_calls = 2
    name = sys.argv[8]
library = Library(settings, BatchingEmbedder(ParallelStub()))
library.index()
if kind == "bare":
    body = open(sys.argv[7], "rb").read()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
else:
    app = create_app(library)
uvicorn.run(app, host="127.0.0.1", port=port, loop=loop, http=http, log_level="warning",
            access_log=False)
"""

SERVED = (
    ("bare ASGI app (same bytes), httptools + asyncio", "bare", "asyncio", "httptools"),
    ("the app, h11 + asyncio", "app", "asyncio", "h11"),
    ("the app, httptools + asyncio", "app", "asyncio", "httptools"),
    ("the app, httptools + uvloop", "app", "uvloop", "httptools"),  # when uvloop is installed
)


def _scope(query: str) -> dict:
    qs = urlencode({"q": query}).encode()
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/search",
        "raw_path": b"/search",
        "query_string": qs,
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def asgi_call(app, query: str) -> bytes:
    """One GET /search through ``app`` as a server would call it; the body it sent."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(_scope(query), receive, send)
    if sent[0]["status"] != 200:
        raise SystemExit(f"/search answered {sent[0]['status']} in process")
    return b"".join(m.get("body", b"") for m in sent[1:])


def _without(library: Library, *names: str):
    """The app as served, less the middleware of these class names."""
    app = create_app(library)
    app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ not in names]
    return app


async def _in_process(library: Library, queries: list[str], rounds: int) -> dict[str, float]:
    apps = {
        "ASGI: the app as served": create_app(library),
        "ASGI: without SecurityHeaders": _without(library, "SecurityHeaders"),
        "ASGI: without BodyLimit": _without(library, "BodyLimit"),
        "ASGI: without TimeBudget": _without(library, "TimeBudget"),
        "ASGI: without any of our middleware": _without(
            library, "SecurityHeaders", "BodyLimit", "TimeBudget", "CORSMiddleware"
        ),
    }
    embedder = library.embedder
    stub = embedder.inner  # type: ignore[attr-defined]
    index = library.index()
    adapter = TypeAdapter(schemas.SearchPublic)
    times: dict[str, list[float]] = {name: [] for name in apps}  # the table's order

    def add(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    for app in apps.values():  # warm: routes compiled, middleware stacks built
        await asgi_call(app, "warm up")
    n = 0
    order = list(apps.items())
    for _ in range(rounds):  # interleaved: every variant sees the same moments
        for q in queries:
            n += 1
            order = order[1:] + order[:1]  # each goes first in turn
            for name, app in order:
                t = time.perf_counter()
                await asgi_call(app, f"{q} {n} {name}")  # distinct: no query cache helps
                add(name, time.perf_counter() - t)
            t = time.perf_counter()
            vector = await embedder.embed_one_async(f"{q} {n} hand-off")  # type: ignore[attr-defined]
            add("hand-off to the model's worker and back (stub embedder)", time.perf_counter() - t)
            t = time.perf_counter()
            embedder.embed_now(f"{q} {n} now")  # type: ignore[attr-defined]
            add("no hand-off: embed_now on this thread (stub embedder)", time.perf_counter() - t)
            t = time.perf_counter()
            stub.embed([f"{q} {n} inline"])
            add("the stub embedder alone", time.perf_counter() - t)
            t = time.perf_counter()
            hits = index.search(q, 10, vector=vector)
            add("the search after the encode (hybrid, stub vector)", time.perf_counter() - t)
            body = {"query": q, "results": [h.to_dict() for h in hits]}
            t = time.perf_counter()
            adapter.dump_json(adapter.validate_python(body))
            add("response: pydantic validate + dump_json (FastAPI's path)", time.perf_counter() - t)
            t = time.perf_counter()
            orjson.dumps(body)
            add("response: orjson.dumps of the dict", time.perf_counter() - t)
            t = time.perf_counter()
            json.dumps(body).encode()
            add("response: json.dumps of the dict", time.perf_counter() - t)
    return {k: median(v) * 1000 for k, v in times.items()}


def _start(settings: Settings, name: str, kind: str, loop: str, http: str, body: Path) -> tuple:
    port = free_port()
    raw = {
        "list_source": settings.list_source,
        "abstracts": str(settings.abstracts) if settings.abstracts else None,
        "index_dir": str(settings.index_dir),
        "cache_dir": str(settings.cache_dir),
        "data_dir": str(settings.data_dir),
        "auto_build": False,
    }
    args = [str(ROOT), json.dumps(raw), str(port), loop, http, kind, str(body), name]
    proc = subprocess.Popen(
        [sys.executable, "-c", STUB_SERVER, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            http_load(url, ["ready?"], 1)
            return proc, url
        except (OSError, SystemExit):
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the stub server ({kind}, {loop}, {http}) did not start")


def layers(
    library: Library, settings: Settings, queries: list[str], rounds: int, work: Path
) -> dict[str, float]:
    """Median ms of each layer with the stub embedder (``library`` must hold a stub)."""
    out = asyncio.run(_in_process(library, queries, rounds))
    body = asyncio.run(asgi_call(create_app(library), queries[0]))
    body_path = work / "layers-body.json"
    body_path.write_bytes(body)
    installed = [s for s in SERVED if all(importlib.util.find_spec(m) for m in s[2:])]
    model = library.embedder.name
    servers = {name: _start(settings, model, *spec, body_path) for name, *spec in installed}
    try:
        times: dict[str, list[float]] = {}
        for r in range(rounds):
            for name, (_, url) in servers.items():
                batch = [f"{q} {r} {name}" for q in queries]
                times.setdefault(f"HTTP: {name}", []).append(http_load(url, batch, 1)["p50_ms"])
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)
    out.update({k: median(v) for k, v in times.items()})
    return out


class ParallelStub(RandomEmbedder):
    """The stub, with calls that may run side by side as ONNX Runtime's do: a lone client's
    query is then encoded without a hand-off, as the served engine's is. ``name`` is the
    served model's, so the built index is the stub's too."""

    parallel_calls = 2

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def stub_library(settings: Settings, name: str) -> Library:
    """The list's library with the stub in place of the model named ``name``."""
    library = Library(settings, BatchingEmbedder(ParallelStub(name)))
    library.index()
    return library
