"""Memory of the service: ``serve`` on the bundled list, the index part at 100k entries.

    .venv/bin/python bench/performance/perf_memory.py [--quick] [--entries 100000]

What is measured (resident set, VmRSS, current, not the peak):

* ``secml-papers serve`` on the bundled list (27 entries), after /health first answers and
  after 20 /search requests: the model, the libraries, the app;
* the index part at ``--entries`` entries, in this process: a generated list (the data set's
  papers repeated under numbered titles, one URL each) parsed, built and stored through the
  real pipeline with a stand-in embedder of random unit vectors (embedding 100k texts with
  the real model would take most of an hour here), then loaded as the service loads it;
  the growth of this process's RSS after the load (which takes the BM25 tables from the
  start cache the build wrote, service/start_cache.py) and after the first hybrid search,
  and the search p50 there without the query encode;
* ``secml-papers serve`` on that ``--entries``-entry list and its stored index (the real model
  for the queries): /health, RSS after start, after 20 searches, and after the categorizer's
  fit, which ``serve`` runs in the background (the first /categorize waits for it; the fit
  the in-process part kept is removed first, so this is a fit, not a restore);
* how long the categorizer's fit takes at several sizes, in this process.

Results: ``$SECML_BENCH_OUT/memory.json``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import distinct_papers, markdown_list
from bench.common.measure import median, rss_mb, timed
from bench.common.models import export_engine
from bench.common.processes import RandomEmbedder, Server, categorize_when_fitted, cli_env
from bench.common.results import RESULTS, save
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

QUERIES = [str(p["title"]) for p in distinct_papers()[:20]]


class StandIn(RandomEmbedder):
    """Random unit vectors under the name of the model ``serve`` runs by default (its engine
    included: int8 is ``...+int8``), so ``serve`` takes the stored index as its own."""

    engine = Settings().engine  # fixed when the benchmark starts; its servers are told it

    def __init__(self) -> None:
        super().__init__()
        self.name = SentenceTransformerEmbedder(Settings().model, engine=self.engine).name


def big_list(entries: int) -> str:
    papers = distinct_papers()
    rows = []
    for i in range(entries):
        p = papers[i % len(papers)]
        # short links keep 100k entries under the list reader's 20 MB cap
        rows.append({**p, "title": f"{p['title']} (part {i})", "pdf_url": f"https://e.org/{i}"})
    return markdown_list(rows)


def measure(env: dict[str, str], log: Path, queries: list[str]) -> dict:
    export_engine(env)  # a start after the first: the model's ONNX graph is in the cache
    started = time.perf_counter()
    server = Server(env, log)
    try:
        after_start = server.rss_mb()
        times = []
        with httpx.Client(base_url=server.url, timeout=3600) as client:
            for q in queries:
                times.append(timed(lambda q=q: client.get("/search", params={"q": q})))
            after_queries = server.rss_mb()
            categorize_when_fitted(client, queries[0])[0].raise_for_status()
        return {
            "health_s": server.health_s,
            "rss_after_start_mb": after_start,
            "rss_after_queries_mb": after_queries,
            "search_p50_ms": median(times) * 1000,
            "categorizer_ready_s": time.perf_counter() - started,
            "rss_after_fit_mb": server.rss_mb(),
        }
    finally:
        server.stop()


def index_part(entries: int, work: Path) -> dict:
    """RSS growth of loading a ``entries``-entry index and searching it (random vectors)."""
    list_path = work / f"list-{entries}.md"
    list_path.write_text(big_list(entries))
    settings = Settings(
        list_source=str(list_path),
        index_dir=work / f"index-{entries}",
        cache_dir=work / "cache",
        data_dir=work / "data",
    )
    built = timed(Library(settings, StandIn()).build)
    before = rss_mb()
    library = Library(settings, StandIn())
    load_s = timed(library.index)
    loaded = rss_mb()
    index = library.index()
    first_search_s = timed(lambda: index.search("backdoor attacks on federated learning"))
    searched = rss_mb()
    hybrid = [timed(lambda q=q: index.search(q)) for q in QUERIES]
    dense = [timed(lambda q=q: index.search(q, mode="dense")) for q in QUERIES]
    return {
        "entries": entries,
        "build_with_random_vectors_s": built,
        "load_s": load_s,
        "rss_growth_load_mb": loaded - before,
        "first_search_s": first_search_s,
        "rss_growth_with_bm25_mb": searched - before,
        "hybrid_search_p50_ms_without_encode": median(hybrid) * 1000,
        "dense_search_p50_ms_without_encode": median(dense) * 1000,
        "vectors_mb_per_copy": entries * 384 * 4 / 1e6,
        "categorizer_fit_s": timed(lambda: library.categorizer.temperature),
        "rss_growth_with_categorizer_mb": rss_mb() - before,
        "settings": settings,
    }


def calibration_seconds(entries: int, work: Path) -> float:
    list_path = work / f"calib-{entries}.md"
    list_path.write_text(big_list(entries))
    settings = Settings(list_source=str(list_path), index_dir=work / f"calib-{entries}")
    library = Library(replace(settings, cache_dir=work / "cache"), StandIn())
    library.index()
    return timed(lambda: library.categorizer.temperature)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2,000 entries; the fit also at 50, 100"
    )
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    entries = 2000 if args.quick else args.entries
    sizes = (50, 100) if args.quick else (500, 2000, 10_000)
    work = RESULTS / "memory"
    shutil.rmtree(work, ignore_errors=True)

    bundled = measure(cli_env(work / "bundled", None, None), work / "bundled.log", QUERIES)
    print(f"serve, bundled list: {bundled}", flush=True)
    big = index_part(entries, work)
    settings = big.pop("settings")
    print(f"index part: {big}", flush=True)
    env = cli_env(work / "big-serve", Path(settings.list_source), None)
    env["SECML_PAPERS_INDEX_DIR"] = str(settings.index_dir)
    env["SECML_PAPERS_ENGINE"] = StandIn.engine
    # the fit kept by index_part read the stand-in embedder's heading vectors: `serve` fits
    # its own (the parse and BM25 tables it keeps are the model's too; perf_startup.py times
    # starts with and without all of them)
    for kept in Path(settings.index_dir).glob("gen-*/categorizer-*.pickle"):
        kept.unlink()
    served = measure(env, work / "big-serve.log", QUERIES)
    print(f"serve, {entries:,} entries: {served}", flush=True)
    calibration = {str(n): calibration_seconds(n, work) for n in sizes}
    calibration[str(entries)] = big["categorizer_fit_s"]
    a, b = sizes[0], entries
    exponent = np.log(calibration[str(b)] / calibration[str(a)]) / np.log(b / a)
    print(f"categorizer fit: {calibration} s (grows as n^{exponent:.2f} from {a} to {b})")
    save(
        "memory",
        {
            "bundled": bundled,
            "index_part": big,
            "served_big": served,
            "calibration_s": calibration,
            "calibration_exponent": float(exponent),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
