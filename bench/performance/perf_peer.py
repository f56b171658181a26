"""The peer: txtai's Embeddings index against ours, same model, same texts, same queries.

    .venv/bin/python bench/performance/perf_peer.py [--quick] [--repeats 5]     (needs the `bench` extra)

txtai (a bench-only extra, never a runtime dependency) indexes the texts our build embeds
(``paper_text`` of each entry of the data set's list, perf_query's set-up) with the same
all-MiniLM-L6-v2 from the package's directory, offline, FAISS backend. In every repeat,
interleaved:

* build: our full build (``Library.build()`` into an empty folder, model loaded) against
  ``Embeddings.index`` of the same texts (model loaded); target: ours no slower (<= 1.0x);
* search: our ``GET /search`` throughput with 8 concurrent HTTP clients (a ``serve``
  subprocess, default hybrid mode, and dense) against txtai's in-process sequential
  ``search(q, 10)`` on the same queries (in the main thread, the faster of torch's default
  thread count and one thread); target >= 1.5x. As context, the model alone encoding the
  same queries in calls of 8 in-process: what 8 clients could get from a server that cost
  nothing.

Results: ``$SECML_BENCH_OUT/peer.json``; if txtai cannot be imported, the file says so.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.measure import median, timed, verdict
from bench.common.processes import Server
from bench.common.results import RESULTS, save
from bench.common.serving import http_load, setup, take
from secml_papers.index.build import paper_text
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder, resolve_model
from secml_papers.service.library import Library


def txtai_search(emb, queries: list[str]) -> float:
    """Sequential queries per second in the main thread, the better of torch's default thread
    count and one thread (our server picks between them by measured times, index/embedding/threads.py;
    txtai is given the better of the two in hindsight)."""

    def run() -> float:
        started = time.perf_counter()
        for q in queries:
            emb.search(q, 10)
        return len(queries) / (time.perf_counter() - started)

    default = torch.get_num_threads()
    best = run()
    torch.set_num_threads(1)
    try:
        return max(best, run())
    finally:
        torch.set_num_threads(default)


def batched_encode(embedder, queries: list[str]) -> float:
    """Queries per second of the model alone, in calls of 8 (what 8 clients' batches ask of
    it), in this process: the ceiling our 8 HTTP clients could reach with a free server."""
    started = time.perf_counter()
    for i in range(0, len(queries), 8):
        embedder.embed(queries[i : i + 8])
    return len(queries) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 papers, tiny query sets")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    n = 16 if args.quick else 120
    try:
        from importlib.metadata import version

        from txtai import Embeddings

        txtai_version = version("txtai")
    except ImportError as err:
        save("peer", {"error": f"txtai cannot be imported ({err}): pip install -e '.[bench]'"})
        return 1
    work = RESULTS / "peer"
    env, settings, pool = setup(work, args.quick)
    embedder = SentenceTransformerEmbedder()
    texts = [paper_text(p) for p in Library(settings, embedder).paper_list.papers]
    emb = Embeddings(path=str(resolve_model("all-MiniLM-L6-v2")), backend="faiss", content=False)
    emb.index([(i, t, None) for i, t in enumerate(texts[:4])])  # loads and warms the model
    embedder.embed(texts[:4])
    server = Server(env, work / "serve.log")
    ours_build, peer_build, ours_qps, dense_qps, peer_qps = [], [], [], [], []
    ceiling_qps: list[float] = []
    try:
        for r in range(repeats):
            fresh = replace(settings, index_dir=work / f"build-{r}", auto_build=True)
            ours_build.append(timed(Library(fresh, embedder).build))
            peer_build.append(timed(lambda: emb.index([(i, t, None) for i, t in enumerate(texts)])))
            queries = take(pool, n)
            ours_qps.append(http_load(server.url, queries, 8)["qps"])
            peer_qps.append(txtai_search(emb, queries))
            ceiling_qps.append(batched_encode(embedder, queries))
            dense_qps.append(http_load(server.url, take(pool, n), 8, mode="dense")["qps"])
            print(
                f"repeat {r}: build ours {ours_build[-1]:.2f} s, txtai {peer_build[-1]:.2f} s; "
                f"ours 8 clients {ours_qps[-1]:.1f} q/s, txtai sequential {peer_qps[-1]:.1f} q/s",
                flush=True,
            )
    finally:
        server.stop()
    results = {
        "txtai": txtai_version,
        "txtai_vectors": type(emb.model).__name__,
        "entries": len(texts),
        "repeats": repeats,
        "queries_per_pass": n,
        "ours_build_s": median(ours_build),
        "txtai_build_s": median(peer_build),
        "build_vs_txtai": median(ours_build) / median(peer_build),
        "ours_http8_qps": median(ours_qps),
        "ours_http8_dense_qps": median(dense_qps),
        "txtai_sequential_qps": median(peer_qps),
        "search_vs_txtai": median(ours_qps) / median(peer_qps),
        "search_dense_vs_txtai": median(dense_qps) / median(peer_qps),
        "model_batched_qps": median(ceiling_qps),
        "model_batched_vs_txtai": median(ceiling_qps) / median(peer_qps),
    }
    print(verdict("our build time vs txtai's", results["build_vs_txtai"], "<= 1.0"))
    print(
        verdict("our HTTP 8-client q/s vs txtai sequential", results["search_vs_txtai"], ">= 1.5")
    )
    save("peer", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
