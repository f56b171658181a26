"""Pydantic models at the HTTP edge only; the library passes frozen dataclasses."""

from __future__ import annotations

from pydantic import BaseModel, Field

from secml_papers.index.search.paper_index import MAX_K, MAX_QUERY_CHARS

MAX_ABSTRACT_CHARS = 20_000


class PaperPublic(BaseModel):
    id: str
    title: str
    authors: str
    venue: str | None
    year: int | None
    url: str | None
    section: list[str]
    abstract: str | None
    note: str | None = None
    line: int


class HitPublic(PaperPublic):
    score: float


class WarningPublic(BaseModel):
    line: int
    message: str


class PapersPublic(BaseModel):
    papers: list[PaperPublic]
    warnings: list[WarningPublic]


class SectionPublic(BaseModel):
    section: list[str]
    count: int


class SectionsPublic(BaseModel):
    sections: list[SectionPublic]


class SearchPublic(BaseModel):
    query: str
    results: list[HitPublic]


class RelatedPublic(BaseModel):
    paper: PaperPublic | None
    results: list[HitPublic]


class RelatedRequest(BaseModel):
    """An entry of the list (``id``, or a ``title`` matching one) or a paper given by hand."""

    id: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=MAX_QUERY_CHARS)
    abstract: str | None = Field(None, max_length=MAX_ABSTRACT_CHARS)
    k: int = Field(10, ge=1, le=MAX_K)


class CategorizeRequest(BaseModel):
    title: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS)
    abstract: str | None = Field(None, max_length=MAX_ABSTRACT_CHARS)
    year: int | None = Field(None, ge=1000, le=9999, description="places it in year order")


class EvidencePublic(BaseModel):
    """An entry of the list behind a suggestion, named so a page need not look it up."""

    id: str
    title: str
    year: int | None
    url: str | None
    line: int


class PositionPublic(BaseModel):
    """Where the paper would be written in its section: ``where`` (before or after) the list's
    line ``line``, by the section's year ``order`` (None: the section keeps none, so at its
    end); ``year`` is the one placed (the current year when none was given); ``url`` links to
    that line when the list is a file on GitHub."""

    line: int
    where: str
    order: str | None
    year: int
    url: str | None


class SuggestionPublic(BaseModel):
    section: list[str]
    confidence: float = Field(..., ge=0, le=1)
    evidence: list[str]
    evidence_entries: list[EvidencePublic] = []
    position: PositionPublic | None = None


class CategorizePublic(BaseModel):
    suggestions: list[SuggestionPublic]
    abstain: bool


class HealthPublic(BaseModel):
    status: str
    list_title: str | None
    papers: int
    model: str


class CheckPrRequest(BaseModel):
    """Two versions of the list, as Markdown text."""

    base: str = Field(..., max_length=2_000_000)
    head: str = Field(..., max_length=2_000_000)
    check_links: bool = Field(
        False,
        description="Request each added entry's link; the server answers 403 unless its "
        "operator set SECML_PAPERS_HTTP_LINK_CHECKS, and reaches only public addresses.",
    )


class CheckPrPublic(BaseModel):
    added: list[dict]
    removed: list[dict]
    moved: list[dict]
    edited: list[dict]
    problems: list[dict]
    links: list[dict]
    findings: dict[str, int]
    comment: str
