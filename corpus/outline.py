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
        if grouped and self.stack:
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


def section_records(
    headings: Sequence[tuple[tuple[str, ...], int]], entries: Sequence[Entry]
) -> tuple[Section, ...]:
    counts: dict[tuple[str, ...], int] = {}
    for e in entries:
        counts[e.section] = counts.get(e.section, 0) + 1
    paths = [p for p, _ in headings]
    return tuple(
        Section(
            path=path,
            line=line,
            count=counts.get(path, 0),
            has_subsections=any(len(o) > len(path) and o[: len(path)] == path for o in paths),
        )
        for path, line in headings
    )
