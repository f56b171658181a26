"""The categorisation methods bench/quality/quality.py compares, as functions from evidence to confidences.

Every method returns a (queries x sections) matrix of confidences. Methods with a free scale
(a similarity turned into a confidence) get a softmax temperature fitted by likelihood on the
*training* entries' leave-one-out scores, never on the papers they are scored on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from secml_papers.index.categorize.calibration import (
    Combiner,
    fit_combiner,
    fit_temperature,
    out_of_fold_logits,
    softmax,
)
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.categorize.features import BASE_FEATURES, FEATURES, PROBE_FEATURES
from secml_papers.index.lexical import LexicalIndex, tokenize

SINGLE = {"nearest entries (kNN mean of 2)": "knn", "section centroid": "centroid"}
SINGLE |= {"zero-shot heading path": "head"}
_FIXED_LOGIT_SCALE = 20.0  # similarities live in [-1, 1]: a scale before fitting a temperature


def knn_vote(sims: np.ndarray, labels: np.ndarray, sections: int, k: int = 5) -> np.ndarray:
    """Plain kNN voting: the share of the k nearest entries in each section (ties: similarity)."""
    out = np.zeros((len(sims), sections))
    for q, row in enumerate(sims):
        valid = np.flatnonzero(np.isfinite(row) & (labels >= 0))
        nearest = valid[np.argsort(-row[valid], kind="stable")[:k]]
        for i in nearest:
            out[q, labels[i]] += 1.0 + 1e-3 * row[i]  # a tie goes to the closer neighbours
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)


def scaled(train_scores: np.ndarray, train_truth: np.ndarray, test_scores: np.ndarray):
    """A single score per section as a softmax whose temperature is fitted on training rows."""
    t = fit_temperature(_FIXED_LOGIT_SCALE * train_scores, train_truth)
    return softmax(_FIXED_LOGIT_SCALE * test_scores / t)


def shipped_v01(features: np.ndarray) -> np.ndarray:
    """The categoriser before this work: max(kNN, heading) + 0.5 heading, as a raw score."""
    knn = np.where(features[..., FEATURES.index("empty")] > 0, -1.0, features[..., 0])
    head = features[..., FEATURES.index("head")]
    return np.maximum(knn, head) + 0.5 * head


def section_bm25(
    texts: Sequence[str],
    labels: np.ndarray,
    headings: Sequence[str],
    queries: Sequence[str],
    hidden_rows: Sequence[int | None],
) -> np.ndarray:
    """BM25 of each query against each section's text (heading + its entries' texts).

    ``hidden_rows[q]`` is the entry left out of its section's text for query q (leave-one-out),
    so each such query rebuilds the small index of section texts.
    """
    tokens = tokenize(list(texts))
    heads = tokenize(list(headings))
    out = np.zeros((len(queries), len(headings)))
    cache: dict[int | None, LexicalIndex] = {}
    for q, (query, hide) in enumerate(zip(queries, hidden_rows, strict=True)):
        if hide not in cache:
            docs = [" ".join(h) for h in heads]
            for i, words in enumerate(tokens):
                if labels[i] >= 0 and i != hide:
                    docs[labels[i]] += " " + " ".join(words)
            cache = {hide: LexicalIndex(docs)}
        out[q] = cache[hide].scores(query)
    return out


def combiner_methods(cat: Categorizer, test: np.ndarray | None) -> dict[str, np.ndarray]:
    """The learned combiner on growing feature sets, and the shipped categoriser itself.

    With ``test`` None the split is leave-one-out: confidences are out of fold.
    """
    train, truth = cat.loo_features, cat.labels[cat.labelled]
    subsets = {
        "combiner: kNN, centroid, vote, heading": ["knn", "centroid", "vote", "head", "size"],
        "combiner: + BM25": [f for f in BASE_FEATURES if f not in ("parent", "kind")],
        "combiner: + parent and kind centroids": list(BASE_FEATURES),
        "combiner: + ridge probes": list(BASE_FEATURES + PROBE_FEATURES),
        "combiner: + word probe": list(FEATURES),
    }
    out = {}
    for name, chosen in subsets.items():
        cols = [FEATURES.index(f) for f in chosen]
        held = out_of_fold_logits(train[..., cols], truth)
        t = fit_temperature(held, truth)
        if test is None:
            out[name] = softmax(held / t)
        else:
            model = fit_combiner(train[..., cols], truth)
            out[name] = Combiner(model.weights, model.mean, model.scale, t).probabilities(
                test[..., cols]
            )
    shipped = "shipped: all + new-section rows, calibrated"
    out[shipped] = cat.held_out if test is None else cat.model.probabilities(test)
    return out
