"""Finding abstracts for list entries, source by source, cheapest sure match first.

Per entry: arXiv by id (batched), Semantic Scholar by DOI or arXiv id, OpenAlex by DOI,
Crossref by DOI, then title searches (Semantic Scholar's match, OpenAlex's search). The first
answer whose title matches the entry's (:func:`titles_match`) and carries an abstract wins;
an answer for another paper is counted as a mismatch and never stored. Each result is handed
to ``on_found`` / ``on_missing`` as soon as it is known, so the caller can persist it at once
and an interrupted run loses nothing. An entry for which some source failed is neither found
nor missing: it is tried again next run. A source that keeps failing is dropped for the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from secml_papers.corpus.polite import SourceError
from secml_papers.corpus.sources_base import Candidate, Target
from secml_papers.corpus.titles import TITLE_THRESHOLD, title_similarity

SOURCES = ("arxiv", "s2", "openalex", "crossref")
MAX_FAILURES = 3  # consecutive failures before a source is dropped for the run


class Arxiv(Protocol):
    name: str
    batch: int

    def by_ids(self, ids: Sequence[str]) -> dict[str, Candidate]: ...


class S2(Protocol):
    name: str

    def by_id(self, target: Target) -> Candidate | None: ...
    def match_title(self, title: str) -> Candidate | None: ...


class OpenAlex(Protocol):
    name: str

    def by_doi(self, doi: str) -> Candidate | None: ...
    def search_title(self, title: str) -> list[Candidate]: ...


class Crossref(Protocol):
    name: str

    def by_doi(self, doi: str) -> Candidate | None: ...


@dataclass
class SourceStats:
    found: int = 0
    not_found: int = 0
    no_abstract: int = 0
    mismatched: int = 0
    errors: int = 0


@dataclass
class Summary:
    """Counts of one run: per entry (found / not found / mismatched / errors) and per source."""

    found: int = 0
    not_found: int = 0
    mismatched: int = 0
    errors: int = 0
    sources: dict[str, SourceStats] = field(
        default_factory=lambda: {s: SourceStats() for s in SOURCES}
    )
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.found + self.not_found + self.mismatched + self.errors


Record = dict[str, object]
Step = tuple[str, Callable[[], Candidate | list[Candidate] | None]]


def found_record(target: Target, candidate: Candidate, score: float) -> Record:
    """The cache line: the entry's own title (how the list matches it) and what vouches for it."""
    ids = {"arxiv_id": target.arxiv_id, "doi": target.doi, **candidate.ids}
    return {
        "title": target.title,
        "abstract": candidate.abstract,
        "source": candidate.source,
        "matched_title": candidate.title,
        "similarity": round(score, 1),
        **{k: ids.get(k) for k in ("arxiv_id", "doi", "s2_id", "openalex_id") if ids.get(k)},
        "paper_id": target.id,
        "fetched": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def missing_record(target: Target, mismatched: bool) -> Record:
    return {
        "title": target.title,
        "arxiv_id": target.arxiv_id,
        "doi": target.doi,
        "paper_id": target.id,
        "reason": "mismatched" if mismatched else "not found",
        "checked": datetime.now(UTC).isoformat(timespec="seconds"),
    }


class Enricher:
    """One run over some entries; sources left None are not asked."""

    def __init__(
        self,
        *,
        arxiv: Arxiv | None = None,
        s2: S2 | None = None,
        openalex: OpenAlex | None = None,
        crossref: Crossref | None = None,
        on_found: Callable[[Record], None],
        on_missing: Callable[[Record], None],
        notify: Callable[[str], None] = lambda _: None,
        progress: Callable[[Summary, int], None] = lambda _s, _n: None,
        threshold: float = TITLE_THRESHOLD,
        max_failures: int = MAX_FAILURES,
    ) -> None:
        self.arxiv, self.s2, self.openalex, self.crossref = arxiv, s2, openalex, crossref
        self.on_found, self.on_missing = on_found, on_missing
        self.notify, self.progress = notify, progress
        self.threshold, self.max_failures = threshold, max_failures
        self.summary = Summary()
        self._failures = dict.fromkeys(SOURCES, 0)

    def run(self, targets: Sequence[Target]) -> Summary:
        batch = self.arxiv.batch if self.arxiv else 20
        for start in range(0, len(targets), batch):
            chunk = targets[start : start + batch]
            from_arxiv = self._arxiv_batch(chunk)
            for target in chunk:
                self._enrich_one(target, from_arxiv)
                self.progress(self.summary, len(targets))
        return self.summary

    def _arxiv_batch(self, chunk: Sequence[Target]) -> dict[str, Candidate] | None:
        """arXiv's answers for the chunk's ids; None when arXiv could not be asked."""
        ids = [t.arxiv_id for t in chunk if t.arxiv_id]
        if not ids or not self._usable("arxiv"):
            return {}
        assert self.arxiv is not None
        try:
            found = self.arxiv.by_ids(ids)
        except SourceError as err:
            self._failed("arxiv", err, count=len(ids))
            return None
        self._failures["arxiv"] = 0
        return found

    def _steps(self, t: Target, from_arxiv: dict[str, Candidate] | None) -> list[Step | str]:
        """The lookups for one entry, in order; a bare source name marks one that failed."""
        steps: list[Step | str] = []
        if t.arxiv_id and self.arxiv:
            steps.append(
                "arxiv" if from_arxiv is None else ("arxiv", lambda: from_arxiv.get(t.arxiv_id))
            )
        if self.s2 and (t.doi or t.arxiv_id):
            steps.append(("s2", lambda: self.s2.by_id(t)))
        if self.openalex and t.doi:
            steps.append(("openalex", lambda: self.openalex.by_doi(t.doi)))
        if self.crossref and t.doi:
            steps.append(("crossref", lambda: self.crossref.by_doi(t.doi)))
        if self.s2:
            steps.append(("s2", lambda: self.s2.match_title(t.title)))
        if self.openalex:
            steps.append(("openalex", lambda: self.openalex.search_title(t.title)))
        return steps

    def _enrich_one(self, target: Target, from_arxiv: dict[str, Candidate] | None) -> None:
        errored = mismatched = False
        for step in self._steps(target, from_arxiv):
            if isinstance(step, str):  # the batch this entry was in failed
                errored = True
                continue
            name, lookup = step
            if not self._usable(name):
                errored = True
                continue
            stats = self.summary.sources[name]
            try:
                answer = lookup()
            except SourceError as err:
                self._failed(name, err)
                errored = True
                continue
            self._failures[name] = 0
            verdict, candidate, score = self._judge(target, answer)
            if verdict == "found":
                stats.found += 1
                self.summary.found += 1
                self.on_found(found_record(target, candidate, score))
                return
            if verdict == "mismatched":
                stats.mismatched += 1
                mismatched = True
                self.summary.mismatches.append((target.title, candidate.title, name))
            elif verdict == "no abstract":
                stats.no_abstract += 1
            else:
                stats.not_found += 1
        if errored:
            self.summary.errors += 1
            return
        if mismatched:
            self.summary.mismatched += 1
        else:
            self.summary.not_found += 1
        self.on_missing(missing_record(target, mismatched))

    def _judge(self, target: Target, answer: Candidate | list[Candidate] | None):
        """("found" | "no abstract" | "mismatched" | "not found", candidate, similarity)."""
        if answer is None or answer == []:
            return "not found", None, 0.0
        if isinstance(answer, list):  # a search: its best-titled hit, a weak one is no claim
            scored = [(title_similarity(target.title, c.title), c) for c in answer]
            score, candidate = max(scored, key=lambda sc: sc[0])
            if score < self.threshold:
                return "not found", None, score
        else:
            candidate = answer
            score = title_similarity(target.title, candidate.title)
            if score < self.threshold:
                return "mismatched", candidate, score
        return ("found" if candidate.abstract else "no abstract"), candidate, score

    def _usable(self, name: str) -> bool:
        return name not in self.summary.dropped

    def _failed(self, name: str, err: SourceError, count: int = 1) -> None:
        self.summary.sources[name].errors += count
        self._failures[name] += 1
        if self._failures[name] >= self.max_failures and name not in self.summary.dropped:
            self.summary.dropped.append(name)
            self.notify(f"{name} keeps failing ({err}); skipped for the rest of this run")
