"""Search, related papers and paper look-up over a loaded index.

Three ways to search: ``dense`` (cosine similarity of embeddings, in FAISS), ``bm25`` (exact
words, through bm25s) and ``hybrid``, the default: both scores fused (half each, min-max
scaled), chosen on the benchmark (docs/quality.md) because it finds the paper a reader
half-remembers more often than either alone. Filters apply before ranking in every mode, so
a filtered search returns the k best matching entries, not the filtered remains of a top k.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process

from secml_papers.corpus.errors import InputError, NotFound
from secml_papers.corpus.headings import heading_key
from secml_papers.corpus.ids import normalise_title
from secml_papers.corpus.records import Paper, Section
from secml_papers.index.build import paper_text
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.lexical import LexicalIndex
from secml_papers.index.search.ranking import (
    candidate_count,
    hybrid_over_candidates,
    rank,
    top_rows,
)
from secml_papers.index.stores.faiss_index import is_approximate, search_rows
from secml_papers.index.stores.store import StoredIndex
from secml_papers.index.stores.vectorstore import Snapshot, Where, as_snapshot

MAX_QUERY_CHARS = 1000
MAX_K = 100
_PATH_SEP = re.compile(r"\s*(?:>|/)\s*")
MODES = ("dense", "bm25", "hybrid")
DEFAULT_MODE = "hybrid"


@dataclass(frozen=True)
class Hit:
    paper: Paper
    score: float

    def to_dict(self) -> dict:
        return {**self.paper.to_dict(), "score": round(self.score, 4)}


@dataclass(frozen=True)
class Filters:
    """``section`` is a heading or a path (``A > B`` or ``A/B``), matched case-insensitively."""

    section: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    venue: str | None = None


def check_query(query: str) -> str:
    text = query.strip()
    if not text:
        raise InputError("the query is empty; ask in plain words, e.g. 'backdoor defenses'")
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(
            f"the query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}"
        )
    return text


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InputError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


def search_text(paper: Paper) -> str:
    """What BM25 reads for a paper: the embedded text (title, note, abstract)."""
    text = paper_text(paper)
    note = getattr(paper, "note", None)
    return text if not note or note in text else f"{text} {note}"


def check_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}, not {k}")
    return k


def section_matches(wanted: Sequence[str], path: Sequence[str]) -> bool:
    """True when ``wanted`` (normalised headings) is a contiguous run of ``path``."""
    norm = [normalise_title(heading_key(h)) for h in path]
    n = len(wanted)
    return any(norm[i : i + n] == list(wanted) for i in range(len(norm) - n + 1))


def parse_section_filter(text: str, sections: Sequence[Section]) -> list[str]:
    """The filter as normalised headings; NotFound when it names no section of the list."""
    whole = [normalise_title(heading_key(text))]
    parts = [normalise_title(heading_key(p)) for p in _PATH_SEP.split(text.strip()) if p.strip()]
    for wanted in (whole, parts):
        if wanted and any(section_matches(wanted, s.path) for s in sections):
            return wanted
    names = ", ".join(sorted({s.path[-1] for s in sections}))
    raise NotFound(f"no section matches {text!r}; the sections are: {names}")


def papers_in_section(
    papers: Sequence[Paper], sections: Sequence[Section], section: str
) -> tuple[Paper, ...]:
    """The papers under a section filter (a heading or a path prefix)."""
    wanted = parse_section_filter(section, sections)
    return tuple(p for p in papers if section_matches(wanted, p.section))


class PaperIndex:
    """The list's papers with their vectors, ready to search."""

    def __init__(
        self,
        papers: Sequence[Paper],
        sections: Sequence[Section],
        stored: StoredIndex | Snapshot,
        embedder: Embedder,
    ) -> None:
        snapshot = as_snapshot(stored)
        rows = {pid: row for row, pid in enumerate(stored.manifest.ids)}
        self.papers = tuple(papers)
        self.sections = tuple(sections)
        self.rows = np.array([rows[p.id] for p in self.papers], dtype=np.int64)
        self.sorted_rows = np.sort(self.rows)  # every index row, as FAISS's selector wants
        self.position_of_row = np.empty(len(self.rows), dtype=np.int64)
        self.position_of_row[self.rows] = np.arange(len(self.rows))
        in_order = np.array_equal(self.rows, np.arange(len(stored.vectors)))
        # the list's order is the index's after a build: no second copy of the vectors then
        self.vectors = stored.vectors if in_order else stored.vectors[self.rows]
        self.stored_vectors = stored.vectors  # by index row, as FAISS numbers them
        # FAISS is searched here (filters as row selectors); another store gets a Where
        self.faiss_index = getattr(snapshot, "faiss_index", None)
        self.searcher = None if self.faiss_index is not None else snapshot.bind(self.papers)
        self.embedder = embedder
        self._by_id = {p.id: p for p in self.papers}

    @cached_property
    def lexical(self) -> LexicalIndex:
        return LexicalIndex([search_text(p) for p in self.papers])

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = DEFAULT_MODE,
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """``vector``: the query's embedding when the caller has it already (the server
        encodes off its event loop first); otherwise the embedder is asked."""
        text, k, mode = check_query(query), check_k(k), check_mode(mode)
        filters = filters or Filters()
        if vector is None and mode != "bm25":
            vector = self.embedder.embed([text])[0]
        if mode == "dense":
            return self.nearest(vector, k, filters)
        if filters == Filters():  # the common case: no per-paper loop
            allowed = np.ones(len(self.papers), dtype=bool)
        else:
            passes = self._filter(filters)
            allowed = np.array([passes(p) for p in self.papers], dtype=bool)
        if mode == "hybrid" and self.faiss_index is not None and is_approximate(self.faiss_index):
            assert vector is not None
            return self._hybrid_on_candidates(text, vector, k, allowed)
        scores = rank(mode, self.vectors, self.lexical, vector, text, allowed)
        return [Hit(self.papers[i], float(scores[i])) for i in top_rows(scores, k)]

    def _hybrid_on_candidates(
        self, text: str, vector: np.ndarray, k: int, allowed: np.ndarray
    ) -> list[Hit]:
        rows = self.sorted_rows if allowed.all() else np.sort(self.rows[allowed])
        if not len(rows):
            return []
        _, found = search_rows(
            self.faiss_index, self.stored_vectors, vector, candidate_count(k), rows
        )
        best = hybrid_over_candidates(
            self.vectors,
            self.lexical.scores(text),
            allowed,
            self.position_of_row[found],
            vector,
            k,
        )
        return [Hit(self.papers[i], score) for i, score in best]

    def related(self, ref: str, k: int = 10) -> tuple[Paper, list[Hit]]:
        paper = self.find_paper(ref)
        vector = self.vector_of(paper.id)
        hits = self.nearest(vector, check_k(k), Filters(), exclude={paper.id})
        return paper, hits

    def related_to_text(self, title: str, abstract: str | None = None, k: int = 10) -> list[Hit]:
        text = check_query(title) + (f". {abstract.strip()}" if abstract else "")
        return self.nearest(self.embedder.embed([text])[0], check_k(k), Filters())

    def vector_of(self, paper_id: str) -> np.ndarray:
        position = self.papers.index(self._by_id[paper_id])
        return self.vectors[position]

    def nearest(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[Hit]:
        if self.searcher is not None:
            return self._nearest_in_store(vector, k, filters, exclude)
        if filters == Filters() and not exclude:  # every row: no per-paper loop
            allowed = self.sorted_rows
        else:
            passes = self._filter(filters)
            allowed = np.array(
                [
                    int(r)
                    for r, p in zip(self.rows, self.papers, strict=True)
                    if p.id not in exclude and passes(p)
                ],
                dtype=np.int64,
            )
        if not len(allowed):
            return []
        scores, rows = search_rows(self.faiss_index, self.stored_vectors, vector, k, allowed)
        positions = self.position_of_row[rows]
        return [Hit(self.papers[i], float(s)) for s, i in zip(scores, positions, strict=True)]

    def _nearest_in_store(
        self, vector: np.ndarray, k: int, filters: Filters, exclude: Collection[str]
    ) -> list[Hit]:
        """The store filters (Milvus: a scalar expression); mistakes are raised here first."""
        assert self.searcher is not None
        self._filter(filters)
        where = Where(
            section=tuple(parse_section_filter(filters.section, self.sections))
            if filters.section
            else None,
            year_min=filters.year_min,
            year_max=filters.year_max,
            venue=(filters.venue or "").casefold().strip(),
            exclude=frozenset(exclude),
        )
        found = self.searcher.search(vector, k, where)
        return [Hit(self._by_id[pid], score) for pid, score in found]

    def _filter(self, f: Filters):
        """A predicate over papers; filter mistakes are raised once, here."""
        if f.year_min is not None and f.year_max is not None and f.year_min > f.year_max:
            raise InputError(f"year_min ({f.year_min}) is after year_max ({f.year_max})")
        wanted = parse_section_filter(f.section, self.sections) if f.section else None
        venue = (f.venue or "").casefold().strip()

        def passes(paper: Paper) -> bool:
            if wanted is not None and not section_matches(wanted, paper.section):
                return False
            if f.year_min is not None and (paper.year is None or paper.year < f.year_min):
                return False
            if f.year_max is not None and (paper.year is None or paper.year > f.year_max):
                return False
            return not venue or venue in (paper.venue or "").casefold()

        return passes

    def find_paper(self, ref: str) -> Paper:
        """A paper by id, or by title forgiving case, punctuation and a unique prefix."""
        ref = ref.strip()
        if ref in self._by_id:
            return self._by_id[ref]
        norm = normalise_title(ref)
        if not norm:
            raise InputError("give a paper id or title")
        for rule in (
            lambda t: t == norm,
            lambda t: t.startswith(norm),
            lambda t: f" {norm} " in f" {t} ",
        ):
            found = [p for p in self.papers if rule(normalise_title(p.title))]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                names = "; ".join(f"{p.title!r} ({p.id})" for p in found[:5])
                raise InputError(f"{ref!r} matches {len(found)} papers: {names}; give an id")
        titles = [p.title for p in self.papers]
        close = process.extract(
            ref, titles, scorer=fuzz.partial_ratio, processor=normalise_title, limit=3
        )
        names = "; ".join(repr(t) for t, _, _ in close)
        raise NotFound(f"no paper in the list matches {ref!r}; the closest titles are: {names}")
