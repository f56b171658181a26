"""Is an added paper where its section's year order says it goes?

Most sections of the bundled list run newest first (Backdoor Attacks > Defense Papers goes
2024, 2024, 2024, 2023, ..., 2020, 2019). The order is read from BASE, so a pull request
cannot change the rule it is checked against, and an added entry is compared with the entries
that were already there, so two misplaced additions do not excuse each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from itertools import pairwise

from secml_papers.corpus.records import Paper, PaperList

NEWEST_FIRST = "newest first"
OLDEST_FIRST = "oldest first"
# Fewer dated entries than this show no order: two entries are sorted one way or the other.
MIN_DATED = 3


@dataclass(frozen=True)
class OrderProblem:
    """An added entry that breaks its section's order, and where it belongs instead.

    ``anchor`` is ``"after"`` or ``"before"`` the existing entry at HEAD line ``anchor_line``
    whose year is ``anchor_year``.
    """

    id: str
    title: str
    line: int
    section: tuple[str, ...]
    year: int
    order: str
    anchor: str
    anchor_line: int
    anchor_year: int
    kind: str = "order"

    @property
    def message(self) -> str:
        return (
            f"{self.title!r} ({self.year}) breaks the {self.order} order of "
            f"{' > '.join(self.section)}: it belongs {self.anchor} line {self.anchor_line} "
            f"(year {self.anchor_year})"
        )

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "message": self.message,
            "kind": self.kind,
            "id": self.id,
            "section": list(self.section),
            "anchor": self.anchor,
            "anchor_line": self.anchor_line,
        }


def section_orders(papers: PaperList) -> dict[tuple[str, ...], str]:
    """The sections sorted by year, newest or oldest first (ties allowed), and which way.

    Sections with fewer than :data:`MIN_DATED` dated entries, or with a single year, show no
    order and are left out; so are unsorted ones.
    """
    orders = {}
    for section, entries in _by_section(papers.papers).items():
        years = [p.year for p in entries if p.year is not None]
        if len(years) < MIN_DATED or len(set(years)) < 2:
            continue
        if all(a >= b for a, b in pairwise(years)):
            orders[section] = NEWEST_FIRST
        elif all(a <= b for a, b in pairwise(years)):
            orders[section] = OLDEST_FIRST
    return orders


def order_problems(
    base: PaperList, head: PaperList, added_ids: Collection[str]
) -> tuple[OrderProblem, ...]:
    """Added HEAD entries placed against the year order their BASE section follows."""
    orders = section_orders(base)
    problems = []
    for section, entries in _by_section(head.papers).items():
        order = orders.get(section)
        if order is None:
            continue
        kept = [p for p in entries if p.id not in added_ids and p.year is not None]
        for paper in entries:
            if paper.id in added_ids and paper.year is not None:
                problem = _misplaced(paper, kept, order)
                if problem is not None:
                    problems.append(problem)
    return tuple(sorted(problems, key=lambda p: p.line))


def _by_section(papers: Iterable[Paper]) -> dict[tuple[str, ...], list[Paper]]:
    groups: dict[tuple[str, ...], list[Paper]] = defaultdict(list)
    for paper in sorted(papers, key=lambda p: p.line):
        groups[paper.section].append(paper)
    return groups


def _misplaced(paper: Paper, kept: list[Paper], order: str) -> OrderProblem | None:
    """None when every kept entry above is no later in the order and every one below no
    earlier; else the problem, anchored after the last kept entry that may precede it."""
    assert paper.year is not None

    def rank(p: Paper) -> int:
        assert p.year is not None
        return -p.year if order == NEWEST_FIRST else p.year

    mine = rank(paper)
    above = [p for p in kept if p.line < paper.line]
    below = [p for p in kept if p.line > paper.line]
    if all(rank(p) <= mine for p in above) and all(rank(p) >= mine for p in below):
        return None
    preceding = [p for p in kept if rank(p) <= mine]
    if preceding:
        anchor, where = preceding[-1], "after"
    else:
        anchor, where = kept[0], "before"
    assert anchor.year is not None
    return OrderProblem(
        id=paper.id,
        title=paper.title,
        line=paper.line,
        section=paper.section,
        year=paper.year,
        order=order,
        anchor=where,
        anchor_line=anchor.line,
        anchor_year=anchor.year,
    )
