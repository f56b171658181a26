"""perf_query's fresh processes: torch in one or two threads, and the CLI's cold search."""

from __future__ import annotations

import subprocess

from bench.common.measure import timed
from bench.common.processes import CLI, run_snippet

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
