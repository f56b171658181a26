"""Issue 17: how soon ``serve`` answers on a 100,000-entry list, and what it holds after use.

    .venv/bin/python bench/performance/perf_startup.py [--quick] [--entries N] [--repeats N]
        [--requests N]

A list of ``--entries`` entries (the data set's papers under numbered titles, as
``perf_memory.py`` makes it) is parsed, built and stored by the real pipeline with random unit
vectors (embedding 100,000 texts with the model would take most of an hour here). Then
``secml-papers serve`` starts on it in fresh processes, with the real model for the queries,
alternately:

* **cold**: the start-up cache files removed from the index generation's folder first, so
  the process parses the list, builds the BM25 tables and fits the categorizer, as every
  start did before issue 17 (it writes the caches again);
* **warm**: the caches an earlier start wrote are there (the usual start).

Each process is timed from its launch to the first answer of ``/health``, then of a first
``/search``, then of a first ``/categorize`` (asked in that order, one at a time); then
``--requests`` mixed requests follow on one connection (of ten: six searches, two related,
one categorize, one check-pr of the bundled list with two added entries; check-pr's body is
capped at 2 MB, so it cannot carry the big list) and the server's RSS (VmRSS) is read.
Where the time of a start goes is measured step by step too (``in_process``): each step of
what ``serve`` does before it answers, in a fresh process with the stand-in embedder (no
model), cold and warm, with the process's RSS growth after each.

Targets (issue 17): /health <= 5 s, first /search <= 6 s, first /categorize <= 10 s, RSS after
1,000 mixed requests <= 1,000 MB (warm starts, the median). Results:
``$SECML_BENCH_OUT/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import distinct_papers
from bench.common.measure import rss_mb
from bench.common.models import export_engine
from bench.common.processes import Server, categorize_when_fitted, cli_env
from bench.common.results import CODE_AT_START, RESULTS, save
from bench.performance.perf_memory import StandIn, big_list
from secml_papers.corpus.storage import read_list
from secml_papers.index.stores.store import IndexStore
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

TARGETS = {
    "health_s": 5.0,
    "first_search_s": 6.0,
    "first_categorize_s": 10.0,
    "rss_after_requests_mb": 1000.0,
}
CACHE_KINDS = ("parsed", "bm25", "categorizer")
ADDED = """
- **Certified Defenses Against Stand-in Backdoors in Federated Startup Benchmarks** (ICML 2031) [[paper](https://e.org/new-1)]
- **Membership Inference on Memory-Mapped Vectors** (NeurIPS 2031) [[paper](https://e.org/new-2)]
"""


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clear_caches(index_dir: Path) -> int:
    gone = 0
    for kind in CACHE_KINDS:
        for path in index_dir.glob(f"gen-*/{kind}-*.pickle"):
            path.unlink()
            gone += 1
    return gone


def mixed(client: httpx.Client, n: int, queries: list[str], ids: list[str]) -> dict:
    base = read_list(None).text
    head = base.rstrip("\n") + "\n" + ADDED
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for i in range(n):
        q = queries[i % len(queries)]
        slot = i % 10
        if slot < 6:
            answer = client.get("/search", params={"q": q})
        elif slot < 8:
            answer = client.get(f"/papers/{ids[(i * 7919) % len(ids)]}/related")
        elif slot == 8:
            answer = client.post("/categorize", json={"title": q})
        else:
            answer = client.post("/check-pr", json={"base": base, "head": head})
        key = str(answer.status_code)
        statuses[key] = statuses.get(key, 0) + 1
    return {"statuses": statuses, "seconds": time.perf_counter() - started}


def serve_once(mode: str, env: dict[str, str], index_dir: Path, work: Path, args, data) -> dict:
    removed = clear_caches(index_dir) if mode == "cold" else 0
    log = work / f"serve-{mode}-{time.monotonic_ns()}.log"
    server = Server(env, log)  # times /health, then a first /search
    cpu_to_search = cpu_seconds(server.proc.pid)  # its own CPU: less swayed by the load
    try:
        with httpx.Client(base_url=server.url, timeout=3600) as client:
            asked = time.perf_counter()
            # a cold start's fit outlasts the time budget: 503, asked again
            answer, refused = categorize_when_fitted(client, data["queries"][0])
            answer.raise_for_status()
            categorize_s = server.first_search_s + time.perf_counter() - asked
            rss_ready = server.rss_mb()
            requests = mixed(client, args.requests, data["queries"], data["ids"])
        return {
            "mode": mode,
            "caches_removed": removed,
            "health_s": server.health_s,
            "first_search_s": server.first_search_s,
            "cpu_s_to_first_search": cpu_to_search,
            "first_categorize_s": categorize_s,
            "categorize_refused": refused,
            "rss_after_first_requests_mb": rss_ready,
            "rss_after_requests_mb": server.rss_mb(),
            "requests": args.requests,
            "mixed": requests,
            "load": os.getloadavg(),
        }
    finally:
        server.stop()


def in_process(settings: Settings, mode: str) -> dict:
    """What ``serve`` does before it answers, step by step, in a fresh process."""
    if mode == "cold":
        clear_caches(settings.resolved_index_dir())
    folders = [str(settings.list_source), str(settings.index_dir), str(settings.cache_dir)]
    run = subprocess.run(
        [sys.executable, __file__, "--steps", *folders, str(settings.data_dir), StandIn.engine],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def steps(list_source: str, index_dir: str, cache_dir: str, data_dir: str, engine: str) -> dict:
    StandIn.engine = engine
    settings = Settings(
        list_source=list_source,
        index_dir=Path(index_dir),
        cache_dir=Path(cache_dir),
        data_dir=Path(data_dir),
    )
    library = Library(settings, StandIn())
    out: dict[str, dict] = {}
    before = rss_mb()

    def step(name: str, fn) -> None:
        started = time.perf_counter()
        fn()
        out[name] = {"s": time.perf_counter() - started, "rss_growth_mb": rss_mb() - before}

    step("read and parse the list", lambda: library.paper_list)
    step("load the index, BM25 tables", library.index)
    step("fit the categorizer", lambda: library.categorizer)
    out["process"] = {"s": 0.0, "rss_growth_mb": before}  # RSS before the steps (imports)
    return out


def steps_again() -> int:
    path = RESULTS / "startup.json"
    result = json.loads(path.read_text())
    work = RESULTS / "startup"
    settings = Settings(
        list_source=str(work / f"list-{result['entries']}.md"),
        index_dir=work / "index",
        cache_dir=work / "cache",
        data_dir=work / "data",
    )
    stored = IndexStore(settings.resolved_index_dir()).load()
    assert stored is not None, "no index: run the whole benchmark"
    StandIn.engine = "onnx-int8" if stored.manifest.model.endswith("+int8") else "onnx"
    result["in_process"] = {mode: in_process(settings, mode) for mode in ("cold", "warm")}
    result["in_process_again"] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
        "load": os.getloadavg(),
        "commit": CODE_AT_START,
    }
    print(f"in process: {result['in_process']}")
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path}")
    return 0


def summary(runs: list[dict]) -> dict:
    out = {}
    for mode in ("cold", "warm"):
        mine = [r for r in runs if r["mode"] == mode]
        if mine:
            out[mode] = {k: statistics.median(r[k] for r in mine) for k in TARGETS}
    warm = out.get("warm", {})
    out["targets"] = {
        k: {"target": v, "warm": warm.get(k), "met": warm.get(k, float("inf")) <= v}
        for k, v in TARGETS.items()
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 entries, 100 requests")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2, help="cold and warm starts each")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--steps", nargs=5, help=argparse.SUPPRESS)  # the in-process child
    parser.add_argument(
        "--steps-again",
        action="store_true",
        help="only measure the in-process steps again, on the last run's list and index, "
        "into its startup.json (its serve runs kept)",
    )
    args = parser.parse_args()
    if args.steps:
        print(json.dumps(steps(*args.steps)))
        return 0
    if args.steps_again:
        return steps_again()
    if args.quick:
        args.entries, args.requests, args.repeats = 2000, 100, 1
    work = RESULTS / "startup"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    list_path = work / f"list-{args.entries}.md"
    list_path.write_text(big_list(args.entries))
    settings = Settings(
        list_source=str(list_path),
        index_dir=work / "index",
        cache_dir=work / "cache",
        data_dir=work / "data",
    )
    started = time.perf_counter()
    Library(settings, StandIn()).build()
    built_s = time.perf_counter() - started
    print(f"built {args.entries:,} entries with random vectors in {built_s:.0f} s", flush=True)
    papers = Library(settings, StandIn()).paper_list.papers
    data = {
        "queries": [str(p["title"]) for p in distinct_papers()[:50]],
        "ids": [p.id for p in papers[:: max(1, len(papers) // 500)]],
    }
    stepped = {mode: in_process(settings, mode) for mode in ("cold", "warm")}
    print(f"in process: {stepped}", flush=True)
    env = cli_env(work / "serve", list_path, None)
    env["SECML_PAPERS_INDEX_DIR"] = str(settings.resolved_index_dir())
    env["SECML_PAPERS_ENGINE"] = StandIn.engine  # what the stand-in's vectors are named for
    export_engine(env)
    runs = []
    for _ in range(args.repeats):
        for mode in ("cold", "warm"):
            runs.append(serve_once(mode, env, settings.resolved_index_dir(), work, args, data))
            print({k: v for k, v in runs[-1].items() if k != "mixed"}, flush=True)
    result = {"entries": args.entries, "build_s": built_s, "in_process": stepped, "runs": runs}
    result |= summary(runs)
    for name, t in result["targets"].items():
        print(
            f"{name}: warm {t['warm']:.2f} (target <= {t['target']:g}) {'met' if t['met'] else 'MISSED'}"
        )
    save("startup", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
