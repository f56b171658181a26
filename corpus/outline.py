"""Where the parser's walk is in a list's heading tree, and the Section records it leaves.

Pure: the walk calls :meth:`WalkState.heading` for every heading it meets ("## Backdoor
Attacks", "#### 2021", "## Contributing") and appends entries under :attr:`WalkState.section`;
this module decides which headings open a section, which only group entries by year, which
parts are skipped with everything below them, and folds sibling sections split by year
("Attack Papers 2023", "Attack Papers 2022") into one.

>>> s = WalkState()
>>> for level, name in [(1, "Awesome L"), (2, "Backdoors"), (4, "2021"), (3, "Defenses")]:
...     s.heading(level, name, line=0)
>>> (s.title, s.section, s.year)
('Awesome L', ('Backdoors', 'Defenses'), None)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from secml_papers.corpus.entry import Fields
from secml_papers.corpus.headings import is_skipped, year_group, year_suffix
from secml_papers.corpus.records import ParseWarning, Section


@dataclass(frozen=True)
class Entry:
    """One entry's fields, under the section it was found in, at its 1-based line."""

    fields: Fields
    section: tuple[str, ...]
    line: int


@dataclass
class WalkState:
    """Where the walk is: the heading stack, a bold pseudo-heading, a year group, a skip."""

    title: str | None = None
    stack: list[tuple[int, str]] = field(default_factory=list)
    pseudo: str | None = None
    year_level: int = 0
    year: int | None = None
    skip_level: int = 0
    headings: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    prose: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # under headings
    introduction: list[str] = field(default_factory=list)  # before the first section

    def add_prose(self, text: str) -> None:
        """A paragraph of prose: the introduction before any section, else the current
        section's description."""
        if not text:
            return
        if not self.stack and not self.headings:
            self.introduction.append(text)
        elif self.stack:
            self.prose.setdefault(self.section, []).append(text)

    @property
    def section(self) -> tuple[str, ...]:
        path = tuple(name for _, name in self.stack)
        return (*path, self.pseudo) if self.pseudo else path

    def heading(self, level: int, name: str, line: int) -> None:
        self.pseudo = None
        if not name:
            return  # "## " with nothing after it names no section
        if self.skip_level and level > self.skip_level:
            return
        self.skip_level = 0
        if self.year_level and level <= self.year_level:
            self.year_level, self.year = 0, None
        if level == 1 and self.title is None and not self.headings and not self.stack:
            self.title = name
            return
        if is_skipped(name):
            self.skip_level = level
            return
        grouped, year = year_group(name)
        # a year below a section groups its entries; a year beside the sections is a section
        # of a list organised by year ("## Surveys", "## 2024", "## 2023", ...)
        if grouped and self.stack and self.stack[-1][0] < level:
            self.year_level, self.year = level, year
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, name))
        self.headings.append((self.section, line))


def with_group_year(fields: Fields, state: WalkState) -> Fields:
    """An entry under a year heading ("#### 2021") without a year of its own takes that one."""
    if fields.year is None and state.year is not None:
        return replace(fields, year=state.year)
    return fields


def fold_year_siblings(state: WalkState) -> None:
    """Sibling headings that differ only by a final year ("Attack Papers 2023", "Attack Papers
    2022") are one section split by year: fold them into "Attack Papers"."""
    groups: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for path, _ in state.headings:
        found = year_suffix(path[-1])
        if found is not None:
            groups.setdefault((path[:-1], found[0]), set()).add(path[-1])
    folded = {
        (parent, name): prefix
        for (parent, prefix), names in groups.items()
        if len(names) >= 2
        for name in names
    }
    if not folded:
        return

    def fold(path: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for name in path:
            out.append(folded.get((tuple(out), name), name))
        return tuple(out)

    seen: set[tuple[str, ...]] = set()
    headings = []
    for path, line in state.headings:
        new = fold(path)
        if new != path and new in seen:
            continue  # the second year of a folded section adds no heading
        seen.add(new)
        headings.append((new, line))
    state.headings = headings
    state.entries = [replace(e, section=fold(e.section)) for e in state.entries]
    prose: dict[tuple[str, ...], list[str]] = {}
    for path, texts in state.prose.items():
        prose.setdefault(fold(path), []).extend(texts)
    state.prose = prose


def section_records(
    headings: Sequence[tuple[tuple[str, ...], int]],
    entries: Sequence[Entry],
    prose: dict[tuple[str, ...], list[str]] | None = None,
    introduction: str = "",
) -> tuple[Section, ...]:
    counts: dict[tuple[str, ...], int] = {}
    for e in entries:
        counts[e.section] = counts.get(e.section, 0) + 1
    paths = [p for p, _ in headings]
    intros = introduced([p[0] for p in paths if len(p) == 1], introduction)
    prose = prose or {}
    return tuple(
        Section(
            path=path,
            line=line,
            count=counts.get(path, 0),
            has_subsections=any(len(o) > len(path) and o[: len(path)] == path for o in paths),
            description=" ".join(prose.get(path, [])),
            intro=intros.get(path[0], "") if len(path) == 1 else "",
        )
        for path, line in headings
    )


# An introduction names its topics in clauses: "papers on X, as well as papers about Y".
_CLAUSES = re.compile(
    r"(?<=[.!?])\s+|;\s*|,?\s+as well as\s+|,\s+(?:and|but|while|whereas)\s+|\s+and also\s+",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z0-9]+")
_FILLER = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by for from in into is it of on or our over the their this "
        "these those to we with about list lists paper papers work works",
    )
)


# The list's own voice before a clause's topic: "We list papers focusing on ..."
_LEAD = frozenset(
    re.findall(
        r"\w+",
        "we i here this it list lists collect collects gather include includes papers paper "
        "works work articles about on focusing focused focus that which covering cover "
        "addressing studying concerning regarding",
    )
)


def _topic(clause: str) -> str:
    """A clause without its lead-in ("papers about ML application in security systems" ->
    "ML application in security systems"): the lead-in names the list, not the section,
    and it would make every described heading look alike to an embedding."""
    words = clause.split()
    start = 0
    while start < len(words) - 1 and words[start].lower().strip(",:") in _LEAD:
        start += 1
    return " ".join(words[start:])


def _content(text: str) -> set[str]:
    """Content words, a plural's final s dropped ("Systems" and "system" agree)."""
    words = _WORDS.findall(text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _FILLER}


def introduced(names: Sequence[str], introduction: str) -> dict[str, str]:
    """The clauses of a list's introduction that name each top-level section's topic.

    A list says in its introduction what it covers, often one clause per top-level part; for a
    part with no entries yet that clause is the best description there is. A clause goes to
    the section whose name shares the most words with it (at least half of the name's words,
    and strictly more than any other section), so a clause naming no section describes none.

    >>> intro = ("We list papers focusing on the security issues arising in ML models, as "
    ...          "well as papers about ML application in security systems.")
    >>> names = ["Security of ML Models", "ML for Security Systems"]
    >>> introduced(names, intro)["ML for Security Systems"]
    'ML application in security systems'
    """
    out: dict[str, list[str]] = {}
    named = [(name, _content(name)) for name in names]
    for clause in _CLAUSES.split(introduction):
        clause = clause.strip().rstrip(".!?").strip()
        words = _content(clause)
        scores = sorted(((len(words & own), name, own) for name, own in named), reverse=True)
        if not scores or not scores[0][2]:
            continue
        best, name, own = scores[0]
        runner_up = scores[1][0] if len(scores) > 1 else 0
        if best > runner_up and 2 * best >= len(own):
            out.setdefault(name, []).append(_topic(clause))
    return {name: "; ".join(clauses) for name, clauses in out.items()}
