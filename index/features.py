"""Per-section evidence for placing a paper: the features the categoriser combines.

For a paper and every candidate section, each feature says how well the paper fits that
section by one kind of evidence. They are computed for many papers at once (the whole list
in leave-one-out, where each entry's own row is hidden), so fitting at build time costs a few
matrix products rather than one categorisation per entry.

* ``knn``      mean cosine similarity to the section's two nearest entries
* ``centroid`` cosine similarity to the mean of the section's entries
* ``vote``     similarity-weighted share of the paper's ten nearest entries in the section
* ``head``     cosine similarity to the heading path (parents included, numbering stripped),
               the only evidence an empty section has
* ``lex``      BM25 of the paper's text against the section's nearest entry, relative to
               the best entry overall (exact rare words: acronyms, dataset names)
* ``lex_head`` BM25 against the heading path, relative to the best heading
* ``parent``   cosine similarity to the mean of the entries under the section's parent
               heading (its siblings): "Backdoor Attacks" evidence for "> Defense Papers"
* ``kind``     cosine similarity to the mean of the entries in every section of the same
               name ("Defense Papers" under any parent): the evidence an empty section of a
               repeated kind borrows from its namesakes
* ``probe``, ``probe_parent``, ``probe_kind``: a ridge probe's score (``probe.py``) for the
               section, for its parent, and for its heading name
* ``size``     log of the section's entry count: a prior, learnt rather than imposed
* ``empty``    1 for a section without entries (its entry features are then 0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from secml_papers.index.probe import RidgeProbe

BASE_FEATURES = (
    "knn",
    "centroid",
    "vote",
    "head",
    "lex",
    "lex_head",
    "parent",
    "kind",
    "size",
    "empty",
)
PROBE_FEATURES = ("probe", "probe_parent", "probe_kind")
FEATURES = BASE_FEATURES + PROBE_FEATURES
KNN_K = 2
VOTE_K = 10
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[ivxlc]+\.|[a-z]\))\s+", re.IGNORECASE)


def clean_heading(heading: str) -> str:
    """A heading without its numbering ("1.2 Backdoor Attacks" -> "Backdoor Attacks").

    >>> clean_heading("2.1. Attack Papers")
    'Attack Papers'
    """
    return _NUMBERING.sub("", heading).strip() or heading.strip()


def heading_text(path: Sequence[str]) -> str:
    """What a section is called, parents included: "Backdoor Attacks > Defense Papers"."""
    return " > ".join(clean_heading(h) for h in path)


@dataclass(frozen=True)
class Evidence:
    """What is known about the list's sections: its entries and their headings."""

    labels: np.ndarray  # per entry: index of its candidate section, -1 when none
    vectors: np.ndarray  # entry vectors (rows L2-normalised)
    heading_vectors: np.ndarray  # one per candidate section
    candidates: tuple[tuple[str, ...], ...]  # the candidate sections' heading paths

    @property
    def n_sections(self) -> int:
        return len(self.heading_vectors)


def section_features(
    evidence: Evidence,
    sims: np.ndarray,
    head_sims: np.ndarray,
    lex: np.ndarray,
    lex_head: np.ndarray,
    hidden: np.ndarray | None = None,
) -> np.ndarray:
    """Features of shape (queries, sections, len(BASE_FEATURES)).

    ``sims`` and ``lex`` hold each query's cosine similarity and BM25 score against every
    entry (queries x entries); ``head_sims`` and ``lex_head`` against every heading. ``hidden``
    marks entries to ignore per query (leave-one-out: the query itself).
    """
    queries, n = sims.shape
    sections = evidence.n_sections
    out = np.zeros((queries, sections, len(BASE_FEATURES)), dtype=np.float64)
    labels = evidence.labels
    visible = np.ones((queries, n), dtype=bool) if hidden is None else ~hidden
    visible &= labels[None, :] >= 0
    lex_top = np.maximum(np.where(visible, lex, 0.0).max(axis=1, initial=0.0), 1e-9)
    out[:, :, 2] = _vote_shares(np.where(visible, sims, -np.inf), labels, sections)
    onehot = np.zeros((n, sections))
    rows = np.flatnonzero(labels >= 0)
    onehot[rows, labels[rows]] = 1.0
    norms = _centroid_norms(evidence.vectors, onehot, visible)
    for j in range(sections):
        members = np.flatnonzero(labels == j)
        seen = visible[:, members]
        counts = seen.sum(axis=1)
        present = counts > 0
        member_sims = np.where(seen, sims[:, members], -np.inf)
        top = -np.sort(-member_sims, axis=1)[:, :KNN_K]
        kept = np.isfinite(top)
        knn = np.where(kept, top, 0.0).sum(axis=1) / np.maximum(kept.sum(axis=1), 1)
        out[:, j, 0] = np.where(present, knn, 0.0)
        total = np.where(seen, sims[:, members], 0.0).sum(axis=1)
        out[:, j, 1] = np.divide(total, norms[:, j], out=np.zeros(queries), where=norms[:, j] > 0)
        out[:, j, 4] = np.where(seen, lex[:, members], 0.0).max(axis=1, initial=0.0) / lex_top
        out[:, j, 8] = np.log1p(counts)
        out[:, j, 9] = (~present).astype(np.float64)
    for column, key in ((6, _parent), (7, _kind)):
        groups = _grouping(evidence.candidates, key)
        member = onehot @ groups  # entries x groups
        out[:, :, column] = _centroid_sims(evidence.vectors, member, sims, visible) @ groups.T
    out[:, :, 3] = head_sims
    out[:, :, 5] = lex_head / np.maximum(lex_head.max(axis=1, keepdims=True), 1e-9)
    return out


def _vote_shares(masked: np.ndarray, labels: np.ndarray, sections: int) -> np.ndarray:
    queries = masked.shape[0]
    shares = np.zeros((queries, sections))
    k = min(VOTE_K, masked.shape[1])
    if k == 0:
        return shares
    nearest = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    for q in range(queries):
        for i in nearest[q]:
            if np.isfinite(masked[q, i]):
                shares[q, labels[i]] += max(float(masked[q, i]), 0.0)
    total = shares.sum(axis=1, keepdims=True)
    return np.divide(shares, total, out=np.zeros_like(shares), where=total > 0)


Probes = list[tuple[RidgeProbe, np.ndarray]]  # a probe and its (sections, groups) map


def fit_probes(evidence: Evidence) -> Probes:
    """The three ridge probes (section, parent, heading name) on the labelled entries."""
    rows = np.flatnonzero(evidence.labels >= 0)
    if len(rows) < 2:
        return []
    onehot = np.zeros((len(rows), evidence.n_sections))
    onehot[np.arange(len(rows)), evidence.labels[rows]] = 1.0
    probes = []
    for key in (lambda p: p, _parent, _kind):
        groups = _grouping(evidence.candidates, key)
        probes.append((RidgeProbe(evidence.vectors[rows], onehot @ groups), groups))
    return probes


def probe_features(
    evidence: Evidence, vectors: np.ndarray | None, probes: Probes | None = None
) -> np.ndarray:
    """(queries, sections, len(PROBE_FEATURES)) from ridge probes on the labelled entries.

    ``vectors`` None means the labelled entries themselves, each left out of its own probe.
    ``probes`` are reused when given (fitted once per list, not once per paper).
    """
    probes = fit_probes(evidence) if probes is None else probes
    rows = np.flatnonzero(evidence.labels >= 0)
    queries = len(rows) if vectors is None else len(vectors)
    out = np.zeros((queries, evidence.n_sections, len(PROBE_FEATURES)))
    for column, (probe, groups) in enumerate(probes):
        scores = probe.leave_one_out() if vectors is None else probe.predict(vectors)
        out[:, :, column] = scores @ groups.T
    return out


def probe_features_without(
    evidence: Evidence, probes: Probes, queries: np.ndarray, hidden: np.ndarray
) -> np.ndarray:
    """Probe features of labelled entries ``queries`` with the entries ``hidden`` (a set that
    includes the queries) left out of the probes' fit; both are positions among the labelled
    entries. Exact, and far cheaper than refitting (``RidgeProbe.block_out``)."""
    out = np.zeros((len(queries), evidence.n_sections, len(PROBE_FEATURES)))
    where = {int(h): k for k, h in enumerate(hidden)}
    picked = [where[int(q)] for q in queries]
    for column, (probe, groups) in enumerate(probes):
        out[:, :, column] = probe.block_out(hidden)[picked] @ groups.T
    return out


def _parent(path: tuple[str, ...]) -> tuple[str, ...]:
    return path[:-1] or path


def _kind(path: tuple[str, ...]) -> tuple[str, ...]:
    return (clean_heading(path[-1]).lower(),)


def _grouping(candidates: Sequence[tuple[str, ...]], key) -> np.ndarray:
    """(sections, groups) one-hot: which group (parent, or heading name) each section is in."""
    keys = [key(tuple(path)) if path else () for path in candidates]
    distinct = sorted(set(keys))
    groups = np.zeros((len(candidates), len(distinct)))
    for j, k in enumerate(keys):
        groups[j, distinct.index(k)] = 1.0
    return groups


def _centroid_sims(
    vectors: np.ndarray, member: np.ndarray, sims: np.ndarray, visible: np.ndarray
) -> np.ndarray:
    """(queries, groups): cosine of each query to each group's mean visible entry vector."""
    norms = _centroid_norms(vectors, member, visible)
    totals = (np.where(visible, sims, 0.0)) @ member
    return np.divide(totals, norms, out=np.zeros_like(totals), where=norms > 1e-9)


def _centroid_norms(vectors: np.ndarray, member: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Per query, the length of each group's sum of visible entry vectors."""
    sums = member.T @ vectors  # (groups, dim)
    full = np.linalg.norm(sums, axis=1)
    norms = np.empty((visible.shape[0], member.shape[1]))
    labelled = member.sum(axis=1) > 0
    for q in range(visible.shape[0]):
        gone = np.flatnonzero(~visible[q] & labelled)
        if len(gone):
            norms[q] = np.linalg.norm(sums - member[gone].T @ vectors[gone], axis=1)
        else:
            norms[q] = full
    return norms
