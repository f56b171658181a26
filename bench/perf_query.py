"""Query speed: /search over real HTTP against in-process encode + FAISS; cold CLI search.

    .venv/bin/python bench/perf_query.py [--quick] [--repeats 5]

Set-up: the data set's list (three papers in four, with abstracts) is built once with the
CLI, then ``secml-papers serve`` runs as a subprocess on 127.0.0.1. Queries are distinct
(held-out titles, tldrs, abstract openings; perf_common.query_pool): no query is sent twice
to a server, so no cache can help. In every repeat, side by side:

* in-process: ``SentenceTransformer.encode([q])`` + ``IndexFlatIP.search`` on the served
  vectors, in a process of its own where only the main thread runs the model, with torch's
  default threads and with one thread, and the service's engine (ONNX Runtime) in place of
  ``encode``; the fastest is the baseline (so the ratio is the service's own overhead);
* HTTP, one client, on the same queries: ``GET /search`` in the default (hybrid) mode, and
  on fresh queries in ``mode=dense`` (the same work as the baseline plus the service);
* HTTP throughput and latency with 8 and 32 concurrent clients (asyncio, keep-alive
  connections, a lean client that costs microseconds per request, as wrk would; one row with
  httpx as the client, for context);

Where a request's time goes (in-process, same queries): encode, FAISS, the rest of
``PaperIndex.search`` (filters, BM25, fusion), and the framework (the app through ASGI with a
stub embedder, minus the stub's search); the rest of the HTTP p50 is uvicorn, the socket and
the client.
The CLI's cold ``search`` (a fresh process, index built) is timed against a fresh process
that only loads the model. And, in fresh processes, one-query encodes in the main thread
alone, then in a worker thread, then in the main thread again: what a second thread that
uses torch (as FastAPI's threadpool does) costs. Results: ``$SECML_BENCH_OUT/query.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import torch
from perf_common import (
    CLI,
    RESULTS,
    RandomEmbedder,
    Server,
    cli_env,
    dataset_list,
    engine_load_process,
    median,
    model_load_process,
    pct,
    query_pool,
    run_snippet,
    save,
    timed,
    verdict,
)

from secml_papers.index.embedding.batching import BatchingEmbedder
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

DEFAULT_THREADS = torch.get_num_threads()


def setup(work: Path, quick: bool) -> tuple[dict[str, str], Settings, Iterator[str]]:
    """The list, its built index, the subprocess environment, in-process settings, queries."""
    shutil.rmtree(work, ignore_errors=True)
    list_path, abstracts, held = dataset_list(work, 4, 40 if quick else None)
    env = cli_env(work, list_path, abstracts)
    subprocess.run([CLI, "build"], env=env, check=True, capture_output=True)
    settings = Settings(
        list_source=str(list_path),
        abstracts=abstracts,
        index_dir=work / "index",
        cache_dir=work / "cache",
        data_dir=work / "data",
        auto_build=False,
    )
    return env, settings, iter(query_pool(held))


def take(pool: Iterator[str], n: int) -> list[str]:
    out = [q for _, q in zip(range(n), pool, strict=False)]
    if len(out) < n:
        raise SystemExit("the query pool ran out: lower --repeats")
    return out


async def _get(reader, writer, target: str) -> None:
    """One GET on a kept-alive HTTP/1.1 connection; the body is read and dropped."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode()
    if status != "HTTP/1.1 200 OK":
        raise SystemExit(f"/search answered {status}")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)


async def _load(
    url: str, queries: list[str], clients: int, params: dict, lean: bool
) -> tuple[list, float]:
    """``clients`` concurrent keep-alive connections sending the queries one after another.

    The lean client writes the request line itself and reads the answer by its
    Content-Length (a few microseconds, as wrk would): the time measured is the server's and
    the socket's. ``lean=False`` sends the same requests with httpx (context: what a Python
    client adds)."""
    latencies: list[float] = []
    todo = iter(queries)
    extra = "".join(f"&{k}={quote(v)}" for k, v in params.items())
    host, port = url.removeprefix("http://").split(":")

    async def lean_worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for q in todo:
                t = time.perf_counter()
                await _get(reader, writer, f"/search?q={quote(q)}{extra}")
                latencies.append(time.perf_counter() - t)
        finally:
            writer.close()

    async def httpx_worker(client: httpx.AsyncClient) -> None:
        for q in todo:
            t = time.perf_counter()
            (await client.get("/search", params={"q": q, **params})).raise_for_status()
            latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    if lean:
        await asyncio.gather(*(lean_worker() for _ in range(clients)))
    else:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
            await asyncio.gather(*(httpx_worker(client) for _ in range(clients)))
    return latencies, time.perf_counter() - started


def http_load(url: str, queries: list[str], clients: int, lean: bool = True, **params: str) -> dict:
    """p50, p95 (ms) and throughput (queries/s) of ``clients`` concurrent /search clients."""
    latencies, wall = asyncio.run(_load(url, queries, clients, params, lean))
    return {
        "p50_ms": pct(latencies, 50) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
        "qps": len(queries) / wall,
    }


BASELINE = """
import json, sys, time
import faiss, numpy as np, torch
from sentence_transformers import SentenceTransformer
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder, resolve_model
model = SentenceTransformer(str(resolve_model("all-MiniLM-L6-v2")), device="cpu")
engine = SentenceTransformerEmbedder()  # the service's engine (ONNX Runtime), as it runs
index = faiss.IndexFlatIP(int(sys.argv[2]))
index.add(np.load(sys.argv[1]))
faiss.omp_set_num_threads(1)
default = torch.get_num_threads()
model.encode(["warm up"])
engine.embed(["warm up"])
print("ready", flush=True)
for line in sys.stdin:
    queries, threads = json.loads(line)
    if threads != "engine":
        torch.set_num_threads(threads or default)
    times = []
    for q in queries:
        t = time.perf_counter()
        if threads == "engine":
            v = engine.embed([q])
        else:
            v = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)
        index.search(np.ascontiguousarray(v, dtype=np.float32), 10)
        times.append(time.perf_counter() - t)
    print(json.dumps(times), flush=True)
"""


class Baseline:
    """Raw ``SentenceTransformer.encode([q])`` + ``IndexFlatIP.search`` on the served vectors,
    one query at a time (torch's default threads, one thread), and the same with the
    service's own engine (ONNX Runtime) in place of ``encode``: the fastest is the baseline.
    In a process of its own where only the main thread runs the model (in
    this process the library's model thread and the clients would share torch's threads with
    it). Kept running between repeats, so the runs interleave with the HTTP runs."""

    def __init__(self, env: dict[str, str], vectors: np.ndarray, work: Path) -> None:
        path = work / "baseline-vectors.npy"
        np.save(path, np.ascontiguousarray(vectors, dtype=np.float32))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", BASELINE, str(path), str(vectors.shape[1])],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("the baseline process did not start")

    def run(self, queries: list[str]) -> dict[str, dict]:
        out = {}
        for threads, name in (
            (0, f"main thread, {DEFAULT_THREADS} threads"),
            (1, "main thread, 1 thread"),
            ("engine", "the service's engine (ONNX Runtime)"),
        ):
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(json.dumps([queries, threads]) + "\n")
            self.proc.stdin.flush()
            times = json.loads(self.proc.stdout.readline())
            out[f"in-process, {name}"] = {
                "p50_ms": pct(times, 50) * 1000,
                "p95_ms": pct(times, 95) * 1000,
            }
        return out

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)


async def _asgi(app, queries: list[str], out: list[float]) -> None:
    """Sequential /search requests to ``app`` in this process, without a socket."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        await client.get("/search", params={"q": "warm up"})
        for q in queries:
            t = time.perf_counter()
            (await client.get("/search", params={"q": q})).raise_for_status()
            out.append(time.perf_counter() - t)


def profile(library: Library, settings: Settings, queries: list[str]) -> dict[str, float]:
    """Median milliseconds of each part of a /search request, in this process.

    The encodes go through the library's batching embedder to the model's own thread, as the
    server's do. The framework's share is the app through ASGI with a stub embedder (random
    vectors, no model, behind the same batching embedder) minus that stub's search; the app
    with the real model is timed too, as context.
    """
    index = library.index()
    names = ("encode", "faiss", "dense", "hybrid", "json", "stub_search", "asgi_stub", "asgi")
    parts: dict[str, list[float]] = {k: [] for k in names}

    def direct(q: str) -> None:
        got = []
        parts["encode"].append(timed(lambda: got.append(library.embedder.embed([q]))))
        vector = got[0]  # the later searches find it in the query cache
        parts["faiss"].append(timed(lambda: index.faiss_index.search(vector, 10)))
        parts["dense"].append(timed(lambda: index.search(q, 10, mode="dense")))
        hits = []
        parts["hybrid"].append(timed(lambda: hits.extend(index.search(q, 10))))
        body = {"query": q, "results": [h.to_dict() for h in hits]}
        parts["json"].append(timed(lambda: json.dumps(body).encode()))

    half = len(queries) // 2
    with ThreadPoolExecutor(1) as pool:
        pool.submit(direct, "warm up").result()
        for q in queries[:half]:
            pool.submit(direct, q).result()
    stub = Library(settings, BatchingEmbedder(RandomEmbedder()))
    stub_index = stub.index()
    stub_vectors = RandomEmbedder().embed(queries[:half])
    parts["stub_search"] = [
        timed(lambda q=q, v=v: stub_index.search(q, 10, vector=v))
        for q, v in zip(queries[:half], stub_vectors, strict=True)
    ]
    # fresh queries through the apps: nothing in their query caches
    asyncio.run(_asgi(create_app(stub), queries[half:], parts["asgi_stub"]))
    asyncio.run(_asgi(create_app(library), queries[half:], parts["asgi"]))
    return {k: median(v) * 1000 for k, v in parts.items()}


TEAMS = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from sentence_transformers import SentenceTransformer
from secml_papers.index.embedding.embedder import resolve_model
model = SentenceTransformer(str(resolve_model("all-MiniLM-L6-v2")), device="cpu")
queries = json.loads(sys.stdin.read())
def run():
    times = []
    for q in queries:
        t = time.perf_counter(); model.encode([q]); times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1000
model.encode(["warm up"])
out = {"main thread only": run()}
with ThreadPoolExecutor(1) as worker:
    out["a worker thread, after the main thread"] = worker.submit(run).result()
out["main thread, after a worker thread used torch"] = run()
print(json.dumps(out))
"""


def thread_teams(env: dict[str, str], queries: list[str]) -> dict[str, float]:
    """p50 ms of one-query encodes in a fresh process: in the main thread alone, then in a
    worker thread, then in the main thread again (each thread that runs torch gets its own
    OpenMP team of threads, and the teams then compete for the cores)."""
    return run_snippet(TEAMS, env, [], queries)


def cold_cli(env: dict[str, str], queries: list[str]) -> list[float]:
    return [
        timed(
            lambda q=q: subprocess.run(
                [CLI, "search", q, "--json"], env=env, check=True, capture_output=True
            )
        )
        for q in queries
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 papers, tiny query sets")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    n1, n8, n32 = (8, 16, 32) if args.quick else (40, 120, 240)
    work = RESULTS / "query"
    env, settings, pool = setup(work, args.quick)

    library = Library(settings, BatchingEmbedder(SentenceTransformerEmbedder()))
    index = library.index()
    servers: dict[str, Server] = {}
    runs: dict[str, list[dict]] = {}
    baseline = Baseline(env, index.stored_vectors, work)
    try:
        servers["default"] = Server(env, work / "serve.log")
        rss = {name: s.rss_mb() for name, s in servers.items()}
        url = servers["default"].url
        for r in range(repeats):
            same = take(pool, n1)
            row = {
                **baseline.run(same),
                "HTTP hybrid, 1 client": http_load(url, same, 1),
                "HTTP hybrid, 1 client, httpx": http_load(url, take(pool, n1), 1, lean=False),
                "HTTP dense, 1 client": http_load(url, take(pool, n1), 1, mode="dense"),
                "HTTP hybrid, 8 clients": http_load(url, take(pool, n8), 8),
                "HTTP hybrid, 32 clients": http_load(url, take(pool, n32), 32),
            }
            for name, m in row.items():
                runs.setdefault(name, []).append(m)
            print(
                f"repeat {r}: "
                + ", ".join(f"{k} p50 {v['p50_ms']:.0f} ms" for k, v in row.items()),
                flush=True,
            )
        rss_after = {name: s.rss_mb() for name, s in servers.items()}
    finally:
        baseline.stop()
        for s in servers.values():
            s.stop()
    table = {name: {k: median([m[k] for m in ms]) for k in ms[0]} for name, ms in runs.items()}
    parts = profile(library, settings, take(pool, 2 * n1))

    teams_ms = {}
    if not args.quick:  # a diagnostic: the smoke run leaves it out
        teams = [thread_teams(env, take(pool, n1)) for _ in range(repeats)]
        teams_ms = {k: median([t[k] for t in teams]) for k in teams[0]}
        print("torch in one or two threads of a process (p50 ms): " + json.dumps(teams_ms))
    cold, load, engine_load = [], [], []
    for _ in range(repeats if args.quick else max(repeats, 5)):
        cold.extend(cold_cli(env, take(pool, 1)))
        load.extend(model_load_process(1))
        engine_load.extend(engine_load_process(1))

    base_name = min(
        (k for k in table if k.startswith("in-process")), key=lambda k: table[k]["p50_ms"]
    )
    base = table[base_name]["p50_ms"]
    results = {
        "entries": len(index.papers),
        "repeats": repeats,
        "queries_per_pass": {"1": n1, "8": n8, "32": n32},
        "table": table,
        "baseline": base_name,
        "http_p50_vs_inprocess": table["HTTP hybrid, 1 client"]["p50_ms"] / base,
        "http_dense_p50_vs_inprocess": table["HTTP dense, 1 client"]["p50_ms"] / base,
        "profile_ms": parts,
        "thread_teams_ms": teams_ms,
        "server_rss_mb": rss,
        "server_rss_after_mb": rss_after,
        "cold_cli_search_s": median(cold),
        "model_load_process_s": median(load),
        "cold_cli_vs_load": median(cold) / median(load),
        "engine_load_process_s": median(engine_load),
    }
    for name, m in table.items():
        qps = f", {m['qps']:.1f} q/s" if "qps" in m else ""
        print(f"{name:38} p50 {m['p50_ms']:7.1f} ms  p95 {m['p95_ms']:7.1f} ms{qps}")
    print("profile (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()))
    print(verdict("HTTP /search p50 vs in-process", results["http_p50_vs_inprocess"], "<= 1.3"))
    print(verdict("cold CLI search vs model load", results["cold_cli_vs_load"], "<= 1.5"))
    save("query", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
