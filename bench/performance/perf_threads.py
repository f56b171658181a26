"""torch's thread count for one-query encodes, on a quiet machine and with one core busy.

    .venv/bin/python bench/performance/perf_threads.py [--quick] [--repeats 3] [--queries 60]

Each configuration runs in a fresh process (thread pools start clean) that loads the model
with one engine (PyTorch, or ONNX Runtime as the service runs it) and times ``--queries``
one-query encodes (distinct queries, after a warm-up), with:

* ``default``: the default thread count (one per core), fixed;
* ``one``: one thread, fixed;
* ``chosen`` (PyTorch only): the count the service picks for small calls from their
  measured times (index/embedding/threads.py); on ONNX Runtime the service uses ``default``.

Each runs on the machine as it is ("quiet") and while another process keeps one core busy
(a pure-Python loop, as a neighbour's job would), alternated in every repeat. Results:
``$SECML_BENCH_OUT/threads.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import query_pool
from bench.common.measure import median, pct
from bench.common.processes import cli_env, run_snippet
from bench.common.results import RESULTS, save

ENCODES = """
import json, sys, time
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
engine, how, queries = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
embedder = SentenceTransformerEmbedder(engine=engine)
assert embedder.running == engine, embedder.fallback
if engine == "onnx":  # the service runs a lone call with a thread per core
    embedder._onnx.threads = 1 if how == "one" else embedder._onnx.threads
elif how != "chosen":  # a fixed count: PyTorch's chooser is left one choice
    chooser = embedder._threads
    chooser.default = 1 if how == "one" else chooser.default
    chooser.choices = (chooser.default,)
embedder.embed(["warm up"])
times = []
for q in queries:
    t = time.perf_counter()
    embedder.embed([q])
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""

BUSY = "while True: pass"
CONFIGS = [("torch", "default"), ("torch", "one"), ("torch", "chosen")]
CONFIGS += [("onnx", "default"), ("onnx", "one")]


def encodes(env: dict[str, str], engine: str, how: str, queries: list[str]) -> list[float]:
    return run_snippet(ENCODES, env, [engine, how], queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, 15 queries")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    repeats, n = (1, 15) if args.quick else (args.repeats, args.queries)
    env = cli_env(RESULTS / "threads", None, None)
    pool = iter(query_pool([], seed=7))
    times: dict[str, list[float]] = {}
    for r in range(repeats):
        for busy in (False, True):
            burner = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
            try:
                for engine, how in CONFIGS:
                    queries = [next(pool) for _ in range(n)]
                    key = f"{engine}, {how}, {'one core busy' if busy else 'quiet'}"
                    got = encodes(env, engine, how, queries)
                    times.setdefault(key, []).extend(got)
                    print(f"repeat {r}: {key}: p50 {median(got) * 1000:.1f} ms", flush=True)
            finally:
                if burner is not None:
                    burner.kill()
                    burner.wait()
    table = {
        key: {"p50_ms": pct(t, 50) * 1000, "p95_ms": pct(t, 95) * 1000, "encodes": len(t)}
        for key, t in times.items()
    }
    for key, m in table.items():
        print(f"{key:28} p50 {m['p50_ms']:7.1f} ms  p95 {m['p95_ms']:7.1f} ms")
    save("threads", {"repeats": repeats, "queries_per_run": n, "table": table})
    return 0


if __name__ == "__main__":
    sys.exit(main())
