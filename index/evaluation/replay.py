"""What check-pr would have said on every past addition to a list, with only what BASE knew.

Each step of the list's history (``corpus/history.py``) that adds entries is checked exactly
as check-pr checks a pull request (``place_added``, ``find_duplicates``): the blind ranking of
sections, the verdict on the section the contributor chose, the possible duplicates. A plain
10-nearest-neighbour vote over the same vectors is scored beside it, so the figures always say
how far above the naive method the list gets. What the maintainers did later (moves, removals
of duplicates) is collected per step and judged in ``replay_stats.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from secml_papers.corpus.diff import diff_lists
from secml_papers.corpus.duplicates import Identifiers, find_duplicates
from secml_papers.corpus.ids import normalise_title
from secml_papers.corpus.records import Paper, PaperList
from secml_papers.index.build import paper_text
from secml_papers.index.categorize.placement import place_added
from secml_papers.index.categorize.verdict import MOVE_ABOVE
from secml_papers.index.embedding.embedder import Embedder

KNN = 10
MIN_ENTRIES = 10  # a BASE smaller than this, or with one section, offers no choice to judge
_YEAR = re.compile(r"^\D{0,20}(19|20)\d\d\D{0,3}$")


class CachedEmbedder:
    """Embeds each distinct text once per replay (by text; the model is fixed)."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.cache: dict[str, np.ndarray] = {}
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self.cache[text] = vector
            self.embedded += len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)


@dataclass(frozen=True)
class Addition:
    """One entry a step added, and what each method said of it."""

    step: int
    commit: str
    paper_id: str
    title: str
    section: tuple[str, ...]  # where the maintainers accepted it
    kind: str  # "existing" (a section with entries in BASE), "empty" or "new"
    eligible: bool  # BASE offers a choice: >= MIN_ENTRIES entries in >= 2 sections
    blind: tuple[tuple[str, ...], ...]  # the top three sections, blind
    confidence: float  # the top one's
    verdict: str
    verdict_section: tuple[str, ...] | None
    knn: tuple[tuple[str, ...], ...]  # the kNN vote's top three
    knn_confidence: float  # the top vote's share
    knn_verdict: str
    flagged: tuple[str, ...]  # ids of entries check-pr named as duplicates
    chosen_blind: float = 0.0  # blind confidence of the accepted section
    other_blind: float = 0.0  # and of the best other section (``verdict.reweigh``)
    other: tuple[str, ...] | None = None
    candidates: int = 0
    with_abstract: bool = False  # embedded with an abstract (``replay --abstracts``)


@dataclass(frozen=True)
class Move:
    """An entry a later step moved to another section (not a whole section renamed or split)."""

    step: int
    paper_id: str
    title: str
    source: tuple[str, ...]
    target: tuple[str, ...]


@dataclass(frozen=True)
class Removal:
    """An entry a later step removed while an entry of the same paper stayed."""

    step: int
    paper_id: str
    title: str
    kept: tuple[str, ...]  # the ids of the entries that stayed


@dataclass(frozen=True)
class StepResult:
    index: int
    commit: str
    date: str
    entries: int  # in BASE
    additions: tuple[Addition, ...]
    moves: tuple[Move, ...]
    removals: tuple[Removal, ...]
    seconds: float


def by_year(papers: Sequence[Paper]) -> bool:
    """Whether the list's sections are years (or year ranges): no topic to place by."""
    names = {p.section[-1] for p in papers if p.section}
    return bool(names) and sum(bool(_YEAR.match(n.strip())) for n in names) >= 0.8 * len(names)


def knn_vote(
    sims: np.ndarray, papers: Sequence[Paper], k: int = KNN
) -> list[tuple[tuple[str, ...], float]]:
    """Sections ranked by their share of the k nearest entries (ties: by summed similarity)."""
    if not len(papers):
        return []
    nearest = np.argsort(-sims, kind="stable")[:k]
    votes: dict[tuple[str, ...], list[float]] = {}
    for i in nearest:
        tally = votes.setdefault(papers[i].section, [0.0, 0.0])
        tally[0] += 1
        tally[1] += float(sims[i])
    ranked = sorted(votes.items(), key=lambda kv: (-kv[1][0], -kv[1][1]))
    return [(section, tally[0] / len(nearest)) for section, tally in ranked]


def naive_verdict(ranked: list[tuple[tuple[str, ...], float]], chosen: tuple[str, ...]) -> str:
    """The naive check: agree when the top vote is the chosen section, move past the threshold."""
    if not ranked or ranked[0][0] == chosen:
        return "ok"
    return "move" if ranked[0][1] >= MOVE_ABOVE else "unsure"


def replay_step(
    index: int,
    commit: str,
    date: str,
    base: PaperList,
    head: PaperList,
    embedder: CachedEmbedder,
    k: int = KNN,
) -> StepResult:
    """check-pr and the kNN vote on the entries ``head`` adds to ``base``."""
    start = time.perf_counter()
    diff = diff_lists(base, head)
    base_vectors = embedder.embed([paper_text(p) for p in base.papers])
    placements = place_added(base.papers, base_vectors, head.sections, diff.added, embedder)
    exact = find_duplicates(diff.added, base.papers)
    counts: dict[tuple[str, ...], int] = {}
    for p in base.papers:
        counts[p.section] = counts.get(p.section, 0) + 1
    known = {s.path for s in base.sections}
    eligible = len(base.papers) >= MIN_ENTRIES and len(counts) >= 2
    additions = []
    added_vectors = embedder.embed([paper_text(p) for p in diff.added])  # as check-pr does
    for placement, vector in zip(placements, added_vectors, strict=True):
        paper = placement.paper
        ranked = knn_vote(base_vectors @ vector if len(base_vectors) else np.zeros(0), base.papers)
        kind = "existing" if counts.get(paper.section) else "new"
        if kind == "new" and paper.section in known:
            kind = "empty"
        said = placement.verdict
        near = tuple(q.id for q, _ in placement.near if q.id != paper.id)
        flagged = tuple(dict.fromkeys([d.id for d in exact.get(paper.id, ())] + list(near)))
        additions.append(
            Addition(
                step=index,
                commit=commit,
                paper_id=paper.id,
                title=paper.title,
                section=paper.section,
                kind=kind,
                eligible=eligible,
                blind=tuple(s.section for s in placement.suggestions[:3]),
                confidence=placement.suggestions[0].confidence if placement.suggestions else 0.0,
                verdict=said.word,
                verdict_section=said.section,
                knn=tuple(s for s, _ in ranked[:3]),
                knn_confidence=ranked[0][1] if ranked else 0.0,
                knn_verdict=naive_verdict(ranked, paper.section),
                flagged=flagged,
                chosen_blind=said.chosen_blind,
                other_blind=said.other_blind,
                other=said.other,
                candidates=said.candidates,
                with_abstract=bool(paper.abstract),
            )
        )
    return StepResult(
        index,
        commit,
        date,
        len(base.papers),
        tuple(additions),
        _moves(index, base, head, diff),
        _removals(index, head, diff),
        time.perf_counter() - start,
    )


def _moves(index: int, base: PaperList, head: PaperList, diff) -> tuple[Move, ...]:
    """Single entries moved between sections that both stay: a fixed misplacement. A section
    that is gone from HEAD was renamed or removed, and one that loses half of its entries in
    one step was split: neither says that one entry was misplaced. A paper listed twice (some
    lists keep one paper under two topics) has no one place to move from."""
    head_sections = {s.path for s in head.sections}
    base_sections = {s.path for s in base.sections}
    size: dict[tuple[str, ...], int] = {}
    for p in base.papers:
        size[p.section] = size.get(p.section, 0) + 1
    seen: dict[str, int] = {}
    for p in (*base.papers, *head.papers):
        seen[p.id] = seen.get(p.id, 0) + 1
    leaving: dict[tuple[str, ...], int] = {}
    for pair in diff.moved:
        leaving[pair.base.section] = leaving.get(pair.base.section, 0) + 1
    return tuple(
        Move(index, pair.base.id, pair.head.title, pair.base.section, pair.head.section)
        for pair in diff.moved
        if pair.base.section in head_sections
        and pair.head.section in base_sections
        and leaving[pair.base.section] < max(2, size[pair.base.section] / 2)
        and seen.get(pair.base.id, 0) <= 2
    )


def _removals(index: int, head: PaperList, diff) -> tuple[Removal, ...]:
    """Removed entries whose paper stays in HEAD: same arXiv id, DOI or normalised title."""
    by_title: dict[str, list[str]] = {}
    for p in head.papers:
        by_title.setdefault(normalise_title(p.title), []).append(p.id)
    ids = [(p.id, Identifiers.of(p)) for p in head.papers]
    out = []
    for gone in diff.removed:
        mine = Identifiers.of(gone)
        kept = list(by_title.get(normalise_title(gone.title), []))
        kept += [pid for pid, theirs in ids if mine.shared(theirs)]
        kept = [pid for pid in dict.fromkeys(kept) if pid != gone.id]
        if kept:
            out.append(Removal(index, gone.id, gone.title, tuple(kept)))
    return tuple(out)
