"""The FAISS index over one generation's vectors: which index type a list gets, and search.

Exact inner product for curated lists; past :data:`EXACT_UP_TO` entries an inverted-file index
whose probe count is measured at build. Persistence of these indexes is ``store.py``'s.
"""

from __future__ import annotations

import faiss
import numpy as np

# Exact search up to this many entries: 50k x 384 floats is ~8 ms a query on one core, and
# exact is what a curated list wants. Beyond, an inverted-file index (bench/performance/scale.py:
# at 100k,
# IVF answers in 0.1-0.4 ms with recall@10 >= 0.95; HNSW's build does not finish at 1M on a
# 2-core machine in reasonable time, IVF's does).
EXACT_UP_TO = 50_000
TARGET_RECALL = 0.97  # recall@10 the IVF probe count is chosen for, measured at build
_NPROBES = (8, 16, 32, 64, 128, 256)


def new_faiss_index(vectors: np.ndarray) -> faiss.Index:
    """Cosine similarity (inner product over normalised rows): exact up to
    :data:`EXACT_UP_TO` entries, else IVF with the fewest probes that reach
    :data:`TARGET_RECALL` on a sample of the index's own vectors."""
    n, dim = vectors.shape
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if n <= EXACT_UP_TO:
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(data)
        return index
    rng = np.random.default_rng(0)
    nlist = int(4 * np.sqrt(n))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(data[rng.choice(n, min(n, 40 * nlist), replace=False)])
    ivf.add(data)
    # Probe with points between two entries, not the entries themselves (which sit in their
    # own cell and would flatter the index): queries fall between topics too.
    pairs = data[rng.choice(n, (300, 2))]
    probe = 0.7 * pairs[:, 0] + 0.3 * pairs[:, 1]
    probe = np.ascontiguousarray(probe / np.linalg.norm(probe, axis=1, keepdims=True))
    exact = faiss.IndexFlatIP(dim)
    exact.add(data)
    _, truth = exact.search(probe, 10)
    for nprobe in _NPROBES:
        ivf.nprobe = nprobe
        _, found = ivf.search(probe, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
        if recall >= TARGET_RECALL:
            break
    return ivf


def index_description(index: faiss.Index) -> str:
    """What the manifest records: the index type and its search parameter."""
    if isinstance(index, faiss.IndexIVF):
        return f"IVF{index.nlist},Flat nprobe={index.nprobe}"
    return type(index).__name__


def is_approximate(index: faiss.Index) -> bool:
    """True for the IVF indexes of large lists (their searches may miss a neighbour)."""
    return isinstance(index, faiss.IndexIVF)


def search_rows(
    index: faiss.Index, vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` (scores, rows) among the ``allowed`` rows for one query vector.

    Exact indexes search with FAISS's id selector. An IVF index answers unfiltered queries
    itself; a filtered query is exact over the allowed rows when they are few enough (the
    probes could miss a narrow filter's rows), else IVF with the selector and 4x the probes.
    """
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    k = min(k, len(allowed))
    if k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    everything = len(allowed) == index.ntotal
    if isinstance(index, faiss.IndexIVF):
        if not everything and len(allowed) <= EXACT_UP_TO:
            # a narrow filter gathers its rows; a wide one scores every row and masks (a
            # matrix-vector product is cheaper than copying most of the matrix)
            if 4 * len(allowed) < len(vectors):
                scores = vectors[allowed] @ query[0]
            else:
                scores = (vectors @ query[0])[allowed]
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            top = top[np.argsort(-scores[top], kind="stable")]
            return scores[top].astype(np.float32), allowed[top]
        params = faiss.SearchParametersIVF(
            sel=None if everything else faiss.IDSelectorBatch(allowed),
            nprobe=index.nprobe * (1 if everything else 4),
        )
    else:
        params = None if everything else faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
    scores, rows = index.search(query, k, params=params)
    keep = rows[0] >= 0
    return scores[0][keep], rows[0][keep]
