"""The pull-request report: corpus diffs and lint, index placement, optional link checks."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from secml_papers.corpus.abstracts import list_with_abstracts
from secml_papers.corpus.diff import ListDiff, changed_lines, diff_lists
from secml_papers.corpus.duplicates import Duplicate, find_duplicates
from secml_papers.corpus.errors import InputError, SecmlError
from secml_papers.corpus.lint import lint_list
from secml_papers.corpus.order import order_problems
from secml_papers.corpus.parse import parse_list
from secml_papers.corpus.records import Paper, PaperList
from secml_papers.index.build import paper_text
from secml_papers.index.categorize.placement import Placement, place_added
from secml_papers.index.categorize.reuse import BORROW_ABOVE, may_borrow, same_entries
from secml_papers.service.library import Library
from secml_papers.service.netguard import AddressPolicy

MAX_LIST_CHARS = 2_000_000
MAX_LINE_CHARS = 20_000  # a real entry is a few hundred characters
MAX_ENTRIES = 20_000
MAX_NEW_EMBEDDINGS = 2_000  # per HTTP request: BASE entries the served index does not hold
FAIL_ON = ("duplicates", "malformed", "placement", "order", "style", "structure", "links")
DEFAULT_FAIL_ON = ("duplicates", "malformed")
_PROBLEM_KIND = {
    "format": "malformed",
    "style": "style",
    "placement": "placement",
    "structure": "structure",
    "order": "order",
}


# papers in, their abstracts out by paper id (check-pr --fetch-abstracts: enrichment.py)
AbstractFetcher = Callable[[Sequence[Paper]], dict[str, str]]


class TooMuchWork(SecmlError):
    """A pull request larger than one HTTP check is allowed to be (refused before embedding)."""

    status = 413


@dataclass(frozen=True)
class AddedPaper:
    placement: Placement
    duplicates: tuple[Duplicate, ...]

    def to_dict(self) -> dict:
        p = self.placement
        return {
            "id": p.paper.id,
            "title": p.paper.title,
            "line": p.paper.line,
            "url": p.paper.url,
            "placed_in": list(p.paper.section),
            "suggestions": [s.to_dict() for s in p.suggestions],
            "agrees": p.agrees,
            "abstain": p.abstain,
            "verdict": p.verdict.word,
            "verdict_section": None if p.verdict.section is None else list(p.verdict.section),
            "verdict_confidence": round(p.verdict.confidence, 4),
            "with_abstract": bool(p.paper.abstract),
            "duplicates": [d.to_dict() for d in self.duplicates],
        }


@dataclass(frozen=True)
class CheckReport:
    added: tuple[AddedPaper, ...]
    diff: ListDiff
    problems: tuple[dict, ...]
    links: tuple[dict, ...] = field(default=())

    def to_dict(self) -> dict:
        diff = self.diff.to_dict()
        return {
            "added": [a.to_dict() for a in self.added],
            "removed": diff["removed"],
            "moved": diff["moved"],
            "edited": diff["edited"],
            "problems": list(self.problems),
            "links": list(self.links),
        }

    def findings(self) -> dict[str, int]:
        """How many findings of each kind ``--fail-on`` can name."""
        counts = dict.fromkeys(FAIL_ON, 0)
        counts["duplicates"] = sum(bool(a.duplicates) for a in self.added)
        counts["placement"] += sum(not a.placement.agrees for a in self.added)
        for problem in self.problems:
            counts[_PROBLEM_KIND.get(problem.get("kind", "format"), "malformed")] += 1
        counts["links"] = sum(bool(link.get("problem")) for link in self.links)
        return counts


def parse_fail_on(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names == ("any",):
        return FAIL_ON
    if names == ("none",):
        return ()
    unknown = [n for n in names if n not in FAIL_ON]
    if unknown:
        raise InputError(
            f"unknown --fail-on {', '.join(unknown)}; use any of {', '.join(FAIL_ON)}, any or none"
        )
    return names


def check_pr(
    library: Library,
    base_text: str,
    head_text: str,
    *,
    check_links: bool = False,
    today: dt.date | None = None,
    max_new_embeddings: int | None = None,
    link_policy: AddressPolicy | None = None,
    max_added: int | None = None,
    max_changed: int | None = None,
    fetch_abstracts: AbstractFetcher | None = None,
) -> CheckReport:
    """The report for a pull request that turns ``base_text`` into ``head_text``.

    ``max_new_embeddings`` caps how many BASE entries absent from the served index may be
    embedded for this one check (the HTTP API sets it, so a request cannot buy minutes of CPU).
    ``link_policy`` says which addresses link checks may reach (service/netguard.py); None lets
    every address through, for a caller on their own machine: the CLI and the HTTP API pass
    theirs. ``max_added`` and ``max_changed`` bound the entries added, and removed, moved or
    edited, checked right after the diff, before anything is embedded (the HTTP API sets them).
    ``fetch_abstracts`` finds the added papers' abstracts (``--fetch-abstracts``): a paper is
    then embedded with its abstract, as the list's entries are after ``enrich``.
    """
    for name, text in (("base", base_text), ("head", head_text)):
        _check_size(name, text)
    if max_added is not None and max_changed is not None:
        _check_new_lines(base_text, head_text, max_added + max_changed)
    base, head = parse_list(base_text), parse_list(head_text)
    for name, parsed in (("base", base), ("head", head)):
        if len(parsed.papers) > MAX_ENTRIES:
            raise InputError(
                f"the {name} list has {len(parsed.papers):,} entries; at most {MAX_ENTRIES:,} "
                "are checked"
            )
    base, head = _with_served_abstracts(library, base, head)
    diff = diff_lists(base, head)
    _check_work(diff, max_added, max_changed)
    year = (today or dt.date.today()).year
    vectors = _vectors(library, base.papers, max_new_embeddings)
    # the served fit: BASE's own when it is the served list, else borrowed by a long list's
    # nearby version (index/categorize/reuse.py); place_added decides which applies
    fitted = library.categorizer if diff.added and _fitted_nearby(library, base, vectors) else None
    added_papers = _with_fetched(diff.added, fetch_abstracts)
    placements = place_added(
        base.papers, vectors, head.sections, added_papers, library.embedder, fitted
    )
    exact = find_duplicates(diff.added, base.papers)
    added = tuple(
        AddedPaper(p, exact.get(p.paper.id, ()) + _possible(p, exact.get(p.paper.id, ())))
        for p in placements
    )
    lines = changed_lines(base_text, head_text)
    problems = [
        q.to_dict() for q in lint_list(head_text, head, base, today_year=year, only_lines=lines)
    ]
    problems += [q.to_dict() for q in order_problems(base, head, {p.id for p in diff.added})]
    problems.sort(key=lambda q: (q["line"], q["kind"]))
    links: tuple[dict, ...] = ()
    if check_links:
        from secml_papers.service.links import check_links as run_checks

        policy = link_policy or AddressPolicy(allow_private=True)
        results = run_checks([(p.url, p.line) for p in diff.added if p.url], policy=policy)
        links = tuple({**r.to_dict(), "problem": r.is_problem} for r in results)
    return CheckReport(added, diff, tuple(problems), links)


def _with_served_abstracts(library: Library, *lists: PaperList) -> tuple[PaperList, ...]:
    """The lists with the abstracts the served list carries (``enrich``, ``--abstracts``),
    matched as at start (arXiv id, DOI or title). BASE's entries are then embedded as the index
    embedded them: check-pr places a paper on the evidence ``/categorize`` uses, and reuses the
    index's vectors and fit rather than embedding every entry again by its title."""
    records = [
        {"title": p.title, "url": p.url, "abstract": p.abstract}
        for p in library.paper_list.papers
        if p.abstract
    ]
    return tuple(list_with_abstracts(found, records) for found in lists)


def _with_fetched(papers: tuple[Paper, ...], fetch: AbstractFetcher | None) -> tuple[Paper, ...]:
    wanted = [p for p in papers if not p.abstract]
    found = fetch(wanted) if fetch is not None and wanted else {}
    return tuple(p.with_abstract(found[p.id]) if p.id in found else p for p in papers)


def _possible(placement: Placement, known: Iterable[Duplicate]) -> tuple[Duplicate, ...]:
    seen = {d.id for d in known}
    return tuple(
        Duplicate(paper.id, paper.title, f"possible duplicate (similarity {score:.2f})")
        for paper, score in placement.near
        if paper.id not in seen and paper.id != placement.paper.id
    )


def _check_new_lines(base_text: str, head_text: str, bound: int) -> None:
    """Before parsing (a second for 5,000 entries): each added or edited entry is a line of
    HEAD that BASE lacks, so far more such lines than the bounds allow is refused at once."""
    new = Counter(line.strip() for line in head_text.splitlines() if line.strip())
    new.subtract(line.strip() for line in base_text.splitlines())
    count = sum(n for n in new.values() if n > 0)
    if count > bound:
        raise TooMuchWork(
            f"the pull request adds or changes {count:,} lines; this server checks at most "
            f"{bound:,} per request: split it, or run check-pr on your own machine"
        )


def _check_work(diff: ListDiff, max_added: int | None, max_changed: int | None) -> None:
    if max_added is not None and len(diff.added) > max_added:
        raise TooMuchWork(
            f"the pull request adds {len(diff.added):,} entries; this server checks at most "
            f"{max_added:,} per request: split it, or run check-pr on your own machine"
        )
    changed = len({p.id for p in diff.removed} | {q.base.id for q in diff.moved + diff.edited})
    if max_changed is not None and changed > max_changed:
        raise TooMuchWork(
            f"the pull request removes, moves or edits {changed:,} entries; this server "
            f"reports at most {max_changed:,} per request: run check-pr on your own machine"
        )


def _check_size(name: str, text: str) -> None:
    if len(text) > MAX_LIST_CHARS:
        raise InputError(f"the {name} list is longer than {MAX_LIST_CHARS:,} characters")
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise InputError(
                f"line {number} of the {name} list is longer than {MAX_LINE_CHARS:,} characters"
            )


def _fitted_nearby(library: Library, base: PaperList, vectors: np.ndarray) -> bool:
    """Whether the served categorizer may serve for BASE: BASE is the served list (the same
    categorizer), or a long list that a few entries set apart from it (one that borrows its
    fit). ``place_added`` checks the entries and vectors again."""
    index = library.index()
    served = index.papers
    if len(served) <= BORROW_ABOVE:
        return same_entries(base.papers, vectors, served, index.vectors)
    return may_borrow(len(served), len(base.papers))


def _vectors(library: Library, papers: tuple[Paper, ...], cap: int | None = None) -> np.ndarray:
    """BASE's vectors, reused from the served index where the text is the same."""
    index = library.index()
    if not papers:
        return np.zeros((0, index.vectors.shape[1]), dtype=np.float32)
    known = {p.id: (paper_text(p), v) for p, v in zip(index.papers, index.vectors, strict=True)}
    missing = [p for p in papers if p.id not in known or known[p.id][0] != paper_text(p)]
    if cap is not None and len(missing) > cap:
        raise InputError(
            f"{len(missing):,} entries of the base list are not in the served list; a check "
            f"embeds at most {cap:,}: run check-pr with --list on your own machine instead"
        )
    fresh = (
        dict(
            zip(
                [p.id for p in missing],
                library.embedder.embed([paper_text(p) for p in missing]),
                strict=True,
            )
        )
        if missing
        else {}
    )
    rows = [fresh[p.id] if p.id in fresh else known[p.id][1] for p in papers]
    return np.array(rows, dtype=np.float32).reshape(len(papers), -1)
