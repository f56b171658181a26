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
* ``words``    the word probe's score (``word_probe.py``): kernel ridge over the title's
               TF-IDF, the words that separate the list's sections
* ``size``     log of the section's entry count: a prior, learnt rather than imposed
* ``empty``    1 for a section without entries (its entry features are then 0)
* ``head_lift`` ``head`` minus the mean ``head`` of the list's entries outside the section:
               how much more the paper looks like the heading than the list's other papers
               do. Raw heading similarity favours headings that sound like the whole list
               ("Security of ML Models > Backdoor Attacks > Defense Papers" is close to any
               security paper); the lift does not, and it is what lets an empty section
               ("ML for Security Systems") win a paper unlike every entry (a malware
               detector): on the bundled list it puts 89% of such titles in that section
               first, raw similarity 16%.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from secml_papers.index.categorize.kinds import kind_description

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
    "head_lift",
)
PROBE_FEATURES = ("probe", "probe_parent", "probe_kind")
WORD_FEATURES = ("words",)
FEATURES = BASE_FEATURES + PROBE_FEATURES + WORD_FEATURES
KNN_K = 2
VOTE_K = 10
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[ivxlc]+\.|[a-z]\))\s+", re.IGNORECASE)


def clean_heading(heading: str) -> str:
    """A heading without its numbering ("1.2 Backdoor Attacks" -> "Backdoor Attacks").

    >>> clean_heading("2.1. Attack Papers")
    'Attack Papers'
    """
    return _NUMBERING.sub("", heading).strip() or heading.strip()


def heading_text(path: Sequence[str], description: str = "") -> str:
    """What a section is called, parents included: "Backdoor Attacks > Defense Papers", then
    what the list says it holds, when it says anything ("ML for Security Systems: papers about
    ML application in security systems"): a bare name of three words is a weak description of
    a section that has no entries to speak for it. A common kind of section ("Defense
    Papers") is described by what that kind holds (``kinds.py``).
    """
    name = " > ".join(clean_heading(h) for h in path)
    said = " ".join(filter(None, (description.strip(), kind_description(path[-1] if path else ""))))
    return f"{name}: {said}" if said else name


@dataclass(frozen=True)
class Evidence:
    """What is known about the list's sections: its entries and their headings."""

    labels: np.ndarray  # per entry: index of its candidate section, -1 when none
    vectors: np.ndarray  # entry vectors (rows L2-normalised)
    heading_vectors: np.ndarray  # one per candidate section
    candidates: tuple[tuple[str, ...], ...]  # the candidate sections' heading paths
    # group sums and the norms of large hidden sets, by grouping: computed once per list,
    # not once per chunk of training rows (``training.py``)
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_sections(self) -> int:
        return len(self.heading_vectors)

    @cached_property
    def layout(self) -> tuple[np.ndarray, np.ndarray]:
        """The entries ordered by section (list order within one), and where each section's
        run starts and ends: section j is ``order[bounds[j]:bounds[j + 1]]``."""
        order = np.argsort(self.labels, kind="stable")
        return order, np.searchsorted(self.labels[order], np.arange(self.n_sections + 1))

    @cached_property
    def members(self) -> list[np.ndarray]:
        """Per candidate section, its entries (indices in list order)."""
        order, bounds = self.layout
        return [order[bounds[j] : bounds[j + 1]] for j in range(self.n_sections)]


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
    norms = _centroid_norms(evidence, "section", onehot, visible)
    order, bounds = evidence.layout  # one gather by section, then a slice per section
    by_sims, by_seen, by_lex = sims[:, order], visible[:, order], lex[:, order]
    for j in range(sections):
        run = slice(bounds[j], bounds[j + 1])
        seen, member_sims = by_seen[:, run], by_sims[:, run]
        counts = seen.sum(axis=1)
        present = counts > 0
        top = _largest(np.where(seen, member_sims, -np.inf), KNN_K)
        kept = np.isfinite(top)
        knn = np.where(kept, top, 0.0).sum(axis=1) / np.maximum(kept.sum(axis=1), 1)
        out[:, j, 0] = np.where(present, knn, 0.0)
        total = np.where(seen, member_sims, 0.0).sum(axis=1)
        out[:, j, 1] = np.divide(total, norms[:, j], out=np.zeros(queries), where=norms[:, j] > 0)
        out[:, j, 4] = np.where(seen, by_lex[:, run], 0.0).max(axis=1, initial=0.0) / lex_top
        out[:, j, 8] = np.log1p(counts)
        out[:, j, 9] = (~present).astype(np.float64)
    for column, key in ((6, parent), (7, kind)):
        groups = grouping(evidence.candidates, key)
        member = onehot @ groups  # entries x groups
        centroid = _centroid_sims(evidence, key.__name__, member, sims, visible)
        out[:, :, column] = centroid @ groups.T
    out[:, :, 3] = head_sims
    out[:, :, 10] = head_sims - _outsiders_head(evidence, onehot, visible)
    out[:, :, 5] = lex_head / np.maximum(lex_head.max(axis=1, keepdims=True), 1e-9)
    return out


def _outsiders_head(evidence: Evidence, onehot: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(queries, sections): the mean heading similarity of each section's visible outsiders
    (the visible entries of the other sections), the baseline ``head_lift`` is measured from."""
    if "entry_heads" not in evidence.cache:
        heads = evidence.vectors @ evidence.heading_vectors.T  # entries x sections
        evidence.cache["entry_heads"] = heads, heads * onehot
    heads, own = evidence.cache["entry_heads"]
    seen = visible.astype(np.float64)
    total = seen @ heads - seen @ own
    count = seen.sum(axis=1, keepdims=True) - seen @ onehot
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _largest(values: np.ndarray, k: int) -> np.ndarray:
    """Each row's k largest values, largest first (a partial sort: the same values)."""
    if values.shape[1] > k:
        values = -np.partition(-values, k - 1, axis=1)[:, :k]
    return -np.sort(-values, axis=1)[:, :k]


def _nearest(masked: np.ndarray, k: int) -> np.ndarray:
    """``np.argsort(-masked, axis=1, kind="stable")[:, :k]``, without sorting whole rows:
    the rows at or above each row's k-th largest value, then a stable sort of those few."""
    if masked.shape[1] <= 4 * k:
        return np.argsort(-masked, axis=1, kind="stable")[:, :k]
    kth = -np.partition(-masked, k - 1, axis=1)[:, k - 1]
    out = np.empty((masked.shape[0], k), dtype=np.int64)
    for q in range(masked.shape[0]):
        near = np.flatnonzero(masked[q] >= kth[q])
        out[q] = near[np.argsort(-masked[q, near], kind="stable")[:k]]
    return out


def _vote_shares(masked: np.ndarray, labels: np.ndarray, sections: int) -> np.ndarray:
    queries = masked.shape[0]
    shares = np.zeros((queries, sections))
    k = min(VOTE_K, masked.shape[1])
    if k == 0:
        return shares
    nearest = _nearest(masked, k)
    for q in range(queries):
        for i in nearest[q]:
            if np.isfinite(masked[q, i]):
                shares[q, labels[i]] += max(float(masked[q, i]), 0.0)
    total = shares.sum(axis=1, keepdims=True)
    return np.divide(shares, total, out=np.zeros_like(shares), where=total > 0)


def parent(path: tuple[str, ...]) -> tuple[str, ...]:
    return path[:-1] or path


def kind(path: tuple[str, ...]) -> tuple[str, ...]:
    return (clean_heading(path[-1]).lower(),)


def grouping(candidates: Sequence[tuple[str, ...]], key) -> np.ndarray:
    """(sections, groups) one-hot: which group (parent, or heading name) each section is in."""
    keys = [key(tuple(path)) if path else () for path in candidates]
    distinct = sorted(set(keys))
    groups = np.zeros((len(candidates), len(distinct)))
    for j, k in enumerate(keys):
        groups[j, distinct.index(k)] = 1.0
    return groups


def _centroid_sims(
    evidence: Evidence, name: str, member: np.ndarray, sims: np.ndarray, visible: np.ndarray
) -> np.ndarray:
    """(queries, groups): cosine of each query to each group's mean visible entry vector."""
    norms = _centroid_norms(evidence, name, member, visible)
    totals = (np.where(visible, sims, 0.0)) @ member
    return np.divide(totals, norms, out=np.zeros_like(totals), where=norms > 1e-9)


_CACHED_GONE = 64  # hidden sets at least this large (emptied sections) are remembered
_CACHE_SIZE = 1024


def _centroid_norms(
    evidence: Evidence, name: str, member: np.ndarray, visible: np.ndarray
) -> np.ndarray:
    """Per query, the length of each group's sum of visible entry vectors (``member``: the
    entries' one-hot groups of grouping ``name``).

    Queries that hide the same entries (a whole section emptied) share one computation."""
    vectors, cache = evidence.vectors, evidence.cache
    if ("sums", name) not in cache:
        sums = member.T @ vectors  # (groups, dim)
        cache[("sums", name)] = sums, np.linalg.norm(sums, axis=1)
    sums, full = cache[("sums", name)]
    norms = np.empty((visible.shape[0], member.shape[1]))
    labelled = evidence.labels >= 0
    done: dict[bytes, np.ndarray] = {}
    for q in range(visible.shape[0]):
        gone = np.flatnonzero(~visible[q] & labelled)
        if not len(gone):
            norms[q] = full
            continue
        key = gone.tobytes()
        if key not in done:
            kept = cache.get((name, key)) if len(gone) >= _CACHED_GONE else None
            if kept is None:
                kept = np.linalg.norm(sums - member[gone].T @ vectors[gone], axis=1)
                if len(gone) >= _CACHED_GONE and len(cache) < _CACHE_SIZE:
                    cache[(name, key)] = kept
            done[key] = kept
        norms[q] = done[key]
    return norms
