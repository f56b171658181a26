"""Query speed: /search over real HTTP against in-process encode + FAISS; cold CLI search.

    .venv/bin/python bench/performance/perf_query.py [--quick] [--repeats 5]

Set-up: the data set's list (three papers in four, with abstracts) is built once with the
CLI, then ``secml-papers serve`` runs as a subprocess on 127.0.0.1. Queries are distinct
(held-out titles, tldrs, abstract openings; bench.common.datasets.query_pool): no query is sent twice
to a server, so no cache can help. In every repeat, side by side:

* in-process: ``SentenceTransformer.encode([q])`` + ``IndexFlatIP.search`` on the served
  vectors, in a process of its own where only the main thread runs the model, with torch's
  default threads and with one thread, and the service's engine (ONNX Runtime) in place of
  ``encode``; the fastest is the baseline (so the ratio is the service's own overhead);
* HTTP, one client, on the same queries: ``GET /search`` in the default (hybrid) mode, and
  on fresh queries in ``mode=dense`` (the same work as the baseline plus the service), whose
  ratio is to the service's engine on those fresh queries (encode time grows with a query's
  length); these and the engine in process alternate in eight parts of each repeat, each client
  on a kept-alive connection whose first (untimed) query is a fresh one;
* HTTP throughput and latency with 8 and 32 concurrent clients (asyncio, keep-alive
  connections, a lean client that costs microseconds per request, as wrk would; one row with
  httpx as the client, for context);

Where a request's time goes (in-process, same queries): encode, FAISS, the rest of
``PaperIndex.search`` (filters, BM25, fusion), and the framework (the app called as ASGI with a
stub embedder, minus the stub's search); the rest of the HTTP p50 is uvicorn, the socket and
the client. What each layer costs (query_parts/layers.py, the stub embedder, interleaved
rounds): the app without each middleware, the hand-off to the model's worker against none,
the response's validation and JSON, and uvicorn's HTTP parsers and event loops over a socket
against a bare ASGI app.
The CLI's cold ``search`` (a fresh process, index built) is timed against a fresh process
that only loads the model. And, in fresh processes, one-query encodes in the main thread
alone, then in a worker thread, then in the main thread again: what a second thread that
uses torch (as FastAPI's threadpool does) costs. Results: ``$SECML_BENCH_OUT/query.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.measure import median, pct, verdict
from bench.common.models import engine_load_process, model_load_process
from bench.common.processes import Server
from bench.common.results import RESULTS, save
from bench.common.serving import http_load, http_times, setup, take
from bench.performance.query_parts.baseline import ENGINE_NAME, Baseline
from bench.performance.query_parts.fresh import cold_cli, thread_teams
from bench.performance.query_parts.layers import layers, stub_library
from bench.performance.query_parts.profile import profile
from secml_papers.index.embedding.batching import BatchingEmbedder
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service.library import Library

CHUNKS = 8  # parts of a repeat's one-client runs, interleaved (and each first in turn)
DENSE_BASE = f"in-process, {ENGINE_NAME}, on the dense row's queries"


def served_by() -> dict[str, str]:
    """What ``serve``'s default ``--http auto --loop auto`` runs on in this environment."""
    found = importlib.util.find_spec
    return {
        "http": "httptools" if found("httptools") else "h11",
        "loop": "uvloop" if found("uvloop") else "asyncio",
    }


def one_client(
    baseline: Baseline, url: str, same: list[str], fresh: list[str], warm: str
) -> dict[str, dict]:
    """The ratios' four rows, interleaved in ``CHUNKS`` parts, each first in turn, so that
    they see the same moments of a shared machine: the service's engine in process and HTTP
    hybrid on the same queries, the engine and HTTP dense on fresh ones (one keep-alive
    client each, warmed by one query)."""
    times: dict[str, list[float]] = {
        f"in-process, {ENGINE_NAME}": [],
        "HTTP hybrid, 1 client": [],
        DENSE_BASE: [],
        "HTTP dense, 1 client": [],
    }
    names = list(times)
    for c in range(CHUNKS):
        part = slice(c * len(same) // CHUNKS, (c + 1) * len(same) // CHUNKS)
        tag = f"{warm} {c}"  # the untimed first query of each connection
        runs = {
            names[0]: lambda part=part: baseline.times(same[part]),
            names[1]: lambda part=part, tag=tag: http_times(url, same[part], tag),
            names[2]: lambda part=part: baseline.times(fresh[part]),
            names[3]: lambda part=part, tag=tag: http_times(
                url, fresh[part], f"{tag} dense", mode="dense"
            ),
        }
        turn = c % len(names)
        for name in names[turn:] + names[:turn]:  # each goes first in turn
            times[name] += runs[name]()
    out = {}
    for name, seconds in times.items():
        out[name] = {"p50_ms": pct(seconds, 50) * 1000, "p95_ms": pct(seconds, 95) * 1000}
        if name.startswith("HTTP"):
            out[name]["qps"] = len(seconds) / sum(seconds)  # one client: back to back
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 papers, tiny query sets")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    n1, n8, n32 = (8, 16, 32) if args.quick else (40, 120, 240)
    work = RESULTS / "query"
    load_start = os.getloadavg()
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
                **baseline.run(same, (0, 1)),
                **one_client(baseline, url, same, take(pool, n1), f"warm {r}"),
                "HTTP hybrid, 1 client, httpx": http_load(url, take(pool, n1), 1, lean=False),
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
    stub = stub_library(settings, library.embedder.name)
    layer_ms = layers(stub, settings, take(pool, n1), repeats, work)
    for name, ms in layer_ms.items():
        print(f"layer: {name:68} {ms:6.3f} ms")

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
        (k for k in table if k.startswith("in-process") and k != DENSE_BASE),
        key=lambda k: table[k]["p50_ms"],
    )
    base = table[base_name]["p50_ms"]
    results = {
        "entries": len(index.papers),
        "repeats": repeats,
        "queries_per_pass": {"1": n1, "8": n8, "32": n32},
        "table": table,
        "baseline": base_name,
        "http_p50_vs_inprocess": table["HTTP hybrid, 1 client"]["p50_ms"] / base,
        # on the queries it was sent (the server's query cache rules out the hybrid row's)
        "http_dense_p50_vs_inprocess": table["HTTP dense, 1 client"]["p50_ms"]
        / table[DENSE_BASE]["p50_ms"],
        "dense_baseline": DENSE_BASE,
        "profile_ms": parts,
        "layers_ms": layer_ms,
        "server": served_by(),
        "load_average": {"start": load_start, "end": os.getloadavg()},
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
    print(verdict("HTTP dense p50 vs in-process", results["http_dense_p50_vs_inprocess"], "<= 1.3"))
    print(f"load average: start {load_start}, end {results['load_average']['end']}")
    print(verdict("cold CLI search vs model load", results["cold_cli_vs_load"], "<= 1.5"))
    save("query", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
