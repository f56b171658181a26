"""Scores of the three search modes, the hybrid's fusion, and the top k of a score array.

Hybrid = half dense, half BM25, each min-max scaled (docs/quality.md). On an exact index every
allowed entry is scored. On an approximate (IVF) index, used above ``faiss_index.EXACT_UP_TO``
entries, scoring every entry would scan all the vectors (memory-bound: 154 MB a query at
100,000 entries, the very cost the IVF index avoids), so the fusion runs over candidates: the
IVF search's best and BM25's best, each scored exactly by both methods and scaled over the
candidates.
"""

from __future__ import annotations

import numpy as np

from secml_papers.index.lexical import LexicalIndex

DENSE_WEIGHT = 0.5  # the hybrid's share of dense similarity: bench/quality/retrieval.py
CANDIDATES = 200  # per method, for the hybrid on an approximate index (at least 20 x k)


def fuse(dense: np.ndarray, lexical: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Half dense, half BM25, each min-max scaled over the allowed rows (others get -inf).

    Chosen on the benchmark over reciprocal rank fusion (k = 10, 60, 200) and other mixes
    (0.3, 0.7): best or tied for best on all four query/text sets (bench/quality/retrieval.py). The
    fused score stays in 0..1, 1 for a paper first by both.
    """
    fused = np.full(len(dense), -np.inf)
    rows = np.flatnonzero(allowed)
    if not len(rows):
        return fused
    fused[rows] = DENSE_WEIGHT * _scaled(dense[rows]) + (1 - DENSE_WEIGHT) * _scaled(lexical[rows])
    return fused


def _scaled(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 1e-12 else np.zeros_like(x, dtype=np.float64)


def rank(
    mode: str,
    vectors: np.ndarray,
    lexical: LexicalIndex,
    query_vector: np.ndarray | None,
    query: str,
    allowed: np.ndarray,
) -> np.ndarray:
    """One score per row (-inf where not allowed or, for BM25, where no word matches)."""
    if mode == "bm25":
        scores = lexical.scores(query).astype(np.float64)
        return np.where(allowed & (scores > 0), scores, -np.inf)
    assert query_vector is not None
    dense = vectors @ query_vector
    if mode == "dense":
        return np.where(allowed, dense, -np.inf)
    return fuse(dense, lexical.scores(query), allowed)


def top_rows(scores: np.ndarray, k: int) -> list[int]:
    """The rows of the ``k`` highest finite scores, ties in row order: what
    ``np.argsort(-scores, kind="stable")[:k]`` gives, without sorting every row (a full sort
    was 10 ms of a search at 100,000 entries; a partition is 2)."""
    negated = -scores
    if len(scores) <= 4 * k:
        order = np.argsort(negated, kind="stable")[:k]
    else:
        kth = np.partition(negated, k - 1)[k - 1]
        candidates = np.flatnonzero(negated <= kth)  # the k best and every tie of the k-th
        order = candidates[np.argsort(negated[candidates], kind="stable")[:k]]
    return [int(i) for i in order if np.isfinite(scores[i])]


def candidate_count(k: int) -> int:
    return max(CANDIDATES, 20 * k)


def hybrid_over_candidates(
    vectors: np.ndarray,
    lexical: np.ndarray,
    allowed: np.ndarray,
    dense_best: np.ndarray,
    query_vector: np.ndarray,
    k: int,
) -> list[tuple[int, float]]:
    """(row, fused score) of the ``k`` best among the candidates: ``dense_best`` (rows from the
    approximate index, all allowed) and the rows of the best BM25 scores among ``allowed``."""
    words = np.where(allowed & (lexical > 0), lexical, -np.inf)
    lexical_best = np.array(top_rows(words, candidate_count(k)), dtype=np.int64)
    rows = np.union1d(np.asarray(dense_best, dtype=np.int64), lexical_best)  # in row order
    if not len(rows):
        return []
    dense = vectors[rows] @ query_vector
    fused = DENSE_WEIGHT * _scaled(dense) + (1 - DENSE_WEIGHT) * _scaled(
        lexical[rows].astype(np.float64)
    )
    return [(int(rows[i]), float(fused[i])) for i in top_rows(fused, k)]
