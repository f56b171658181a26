"""Frozen records passed between layers: what the parser understood of a list."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Paper:
    """One entry of the list. ``section`` is the heading path below the list's title."""

    id: str
    title: str
    authors: str
    venue: str | None
    year: int | None
    url: str | None
    section: tuple[str, ...]
    line: int
    abstract: str | None = None
    note: str | None = None  # the one-line summary many lists write beside an entry
    tags: tuple[str, ...] = ()  # its badges other than the venue's ("LLM", "Defense")

    def with_abstract(self, abstract: str | None) -> Paper:
        return replace(self, abstract=abstract)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["section"] = list(self.section)
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True)
class Section:
    """A heading of the list. ``count`` counts the entries written directly under it.

    ``description`` is the prose written under the heading, and ``intro`` the part of the
    list's introduction that names this (top-level) section's topic ("papers about ML
    application in security systems" for "ML for Security Systems"): a section with no
    entries yet has only its name and these to be recognised by. Neither is in ``to_dict``.
    """

    path: tuple[str, ...]
    line: int
    count: int = 0
    has_subsections: bool = False
    description: str = ""
    intro: str = ""

    @property
    def can_hold_entries(self) -> bool:
        """Leaves, and headings that already hold entries, are where papers may go."""
        return not self.has_subsections or self.count > 0

    def to_dict(self) -> dict:
        return {"section": list(self.path), "count": self.count}


@dataclass(frozen=True)
class ParseWarning:
    line: int
    message: str

    def to_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class PaperList:
    """What the parser understood. ``skipped`` holds the lines of list items and table rows
    it read and did not take as entries on purpose (contents links, group names, an entry's
    own detail lines, parts such as News); every other item is a paper or a warning."""

    title: str | None
    papers: tuple[Paper, ...] = ()
    sections: tuple[Section, ...] = ()
    warnings: tuple[ParseWarning, ...] = field(default=())
    skipped: tuple[int, ...] = field(default=())
    introduction: str = ""  # the prose between the title and the first section

    def by_id(self) -> dict[str, Paper]:
        return {p.id: p for p in self.papers}

    def with_papers(self, papers: tuple[Paper, ...]) -> PaperList:
        return replace(self, papers=papers)
