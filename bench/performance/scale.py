"""FAISS index types at 10k, 100k and 1M vectors: search p50, recall@10, build time, memory.

Usage: python bench/performance/scale.py [--sizes 10000,100000,1000000] [--queries 200] [--out FILE]
       python bench/performance/scale.py --quick        (2,000 vectors, 50 queries: a smoke run)
       python bench/performance/scale.py --data random --sizes 100000 --out .../scale-random.json

Writes its rows to ``$SECML_BENCH_OUT/scale.json`` (default /tmp/secml-bench-perf), which
bench/performance/perf_report.py turns into docs/benchmarks.md. Run the 1M size with ``nice``: it
takes several minutes and several GB.

The vectors have the real model's dimension and the real data's shape: the data set's
titles and abstracts are embedded once with all-MiniLM-L6-v2 (the shipped model), and every
synthetic vector is one of them plus Gaussian noise, renormalised, so that neighbourhoods are
clustered as in a real corpus (uniform random unit vectors in 384 dimensions have no near
neighbours, which makes every approximate index look worse than it is). Queries are fresh
noisy copies. Recall@10 is measured against exact search (IndexFlatIP) on the same vectors.
``--data random`` takes uniform random unit vectors instead: the hard case for approximate
indexes (no true near neighbours), a lower bound on their recall.
Index-only: no model in the timed part. Threads: builds use every core; searches are single
queries, one at a time, as the service makes them, with one FAISS thread by default (OpenMP
threads that spin for one query only slow it down on a shared 2-core machine). Memory: the
serialised index size, and the growth of this process's resident set (current, not peak)
while the index is built and held.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import load_papers
from bench.common.measure import rss_mb
from bench.common.results import RESULTS, code_state

NOISE = 0.35  # per-coordinate sigma relative to 1/sqrt(dim): neighbours at cosine ~0.9


def base_vectors() -> np.ndarray:
    """Real embeddings of the data set's texts (cached beside the script's output)."""
    cache = Path("/tmp/secml-bench-owasp-vectors.npy")
    if cache.exists():
        return np.load(cache)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder

    papers = load_papers()
    texts = [f"{p['title']}. {p.get('abstract') or ''}" for p in papers]
    vectors = SentenceTransformerEmbedder().embed(texts)
    np.save(cache, vectors)
    return vectors


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Points between two real papers (nearer the first), plus noise: a continuum of topics
    around the real ones rather than tight clusters."""
    dim = base.shape[1]
    first, second = base[rng.integers(0, len(base), n)], base[rng.integers(0, len(base), n)]
    weight = (rng.random((n, 1)) ** 2 * 0.5).astype(np.float32)
    picks = (1 - weight) * first + weight * second
    out = picks + rng.normal(0, NOISE / np.sqrt(dim), size=(n, dim)).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def uniform(n: int, rng: np.random.Generator, dim: int = 384) -> np.ndarray:
    out = rng.standard_normal((n, dim), dtype=np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def build(kind: str, vectors: np.ndarray) -> faiss.Index:
    dim, n = vectors.shape[1], len(vectors)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind.startswith("hnsw"):
        m = int(kind.split("-")[1]) if "-" in kind else 32
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    elif kind == "ivf":
        nlist = int(4 * np.sqrt(n))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(n, min(n, 40 * nlist), replace=False)]
        index.train(sample)
    else:
        raise ValueError(kind)
    index.add(vectors)
    return index


def tune(index: faiss.Index, kind: str, value: int) -> None:
    if kind.startswith("hnsw"):
        index.hnsw.efSearch = value
    elif kind == "ivf":
        index.nprobe = value


def measure(index: faiss.Index, queries: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    times, found = [], 0
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None, :], 10)
        times.append(time.perf_counter() - t)
        found += len(set(ids[0]) & set(truth[len(times) - 1]))
    return float(np.percentile(times, 50) * 1000), found / (10 * len(queries))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="2,000 vectors, 50 queries")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads for a search")
    parser.add_argument("--data", choices=("real", "random"), default="real")
    parser.add_argument(
        "--max-hnsw", type=int, default=10**9, help="skip HNSW above this size (its build is slow)"
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.queries = "2000", 50
    build_threads = faiss.omp_get_max_threads()
    rng = np.random.default_rng(42)
    base = base_vectors() if args.data == "real" else None
    rows = []
    print(f"faiss {faiss.__version__}, {build_threads} threads to build, {args.threads} to search")
    print(
        f"{'n':>8} {'index':8} {'param':>9} {'build s':>8} {'p50 ms':>7} {'recall@10':>9} {'MB':>7}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        vectors, queries = (
            (synthetic(base, n, rng), synthetic(base, args.queries, rng))
            if base is not None
            else (uniform(n, rng), uniform(args.queries, rng))
        )
        faiss.omp_set_num_threads(build_threads)
        before = rss_mb()
        t = time.perf_counter()
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        flat_s, flat_mb = time.perf_counter() - t, rss_mb() - before
        _, truth = exact.search(queries, 10)
        kinds = [("flat", [0]), ("hnsw-32", [16, 32, 64, 128, 256]), ("ivf", [8, 16, 32, 64, 128])]
        for kind, params in kinds:
            if kind.startswith("hnsw") and n > args.max_hnsw:
                print(f"{n:8d} {kind:8} skipped (--max-hnsw {args.max_hnsw})")
                continue
            faiss.omp_set_num_threads(build_threads)
            before = rss_mb()
            t = time.perf_counter()
            index = exact if kind == "flat" else build(kind, vectors)
            seconds = flat_s if kind == "flat" else time.perf_counter() - t
            grown = flat_mb if kind == "flat" else rss_mb() - before
            size_mb = len(faiss.serialize_index(index)) / 1e6
            faiss.omp_set_num_threads(args.threads)
            for value in params:
                tune(index, kind, value)
                p50, recall = measure(index, queries, truth)
                label = {"flat": "-", "hnsw-32": f"ef={value}", "ivf": f"nprobe={value}"}[kind]
                print(
                    f"{n:8d} {kind:8} {label:>9} {seconds:8.1f} {p50:7.2f} {recall:9.3f} "
                    f"{size_mb:7.0f}",
                    flush=True,
                )
                rows.append(
                    {
                        "n": n,
                        "index": kind,
                        "param": label,
                        "build_s": round(seconds, 2),
                        "p50_ms": round(p50, 3),
                        "recall_at_10": round(recall, 4),
                        "index_mb": round(size_mb, 1),
                        "rss_growth_mb": round(grown, 1),
                    }
                )
            if index is not exact:
                del index
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"faiss": faiss.__version__, "search_threads": args.threads, "queries": args.queries}
    meta["data"] = args.data
    meta["max_hnsw"] = args.max_hnsw
    meta["measured_at"] = time.strftime("%Y-%m-%d %H:%M")
    meta["commit"] = code_state()
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
