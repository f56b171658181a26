"""Pydantic models at the HTTP edge only; the library passes frozen dataclasses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from secml_papers.index.search.paper_index import MAX_K, MAX_QUERY_CHARS

MAX_ABSTRACT_CHARS = 20_000
MAX_TAGS, MAX_TAG_CHARS = 20, 100


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
    tags: list[str] = Field(default_factory=list, description="its badges, the venue's aside")
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


def _json_integer(value: object) -> object:
    """Refuse what pydantic's lax mode would turn into an int but JSON Schema's integer is not
    (``"5"``, ``true``); 5.0 stays accepted, as JSON Schema counts it an integer."""
    if isinstance(value, str | bool):
        raise ValueError("Input should be an integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]
YEAR_MIN = Query(description="the earliest year; not after year_max (400 otherwise)")
YEAR_MAX = Query(description="the latest year; not before year_min (400 otherwise)")

# Some text that is not only blanks: what the handlers ask of a query or a title (they answer 400
# with their own sentence otherwise, so it is documented here rather than enforced as a 422).
NOT_BLANK = r"\S"
# /search's ``q``: empty or blank, it gets check_query's own 400, so the schema only documents it.
SEARCH_QUERY = Query(
    max_length=MAX_QUERY_CHARS,
    description="plain words",
    json_schema_extra={"minLength": 1, "pattern": NOT_BLANK},
)
# Empty, or with a letter or digit to look an entry up by (index/search/paper_index.py: find_paper).
ID_OR_TITLE = r"^$|[A-Za-z0-9]"


class RelatedRequest(BaseModel):
    """An entry of the list (``id``, or a ``title`` matching one) or a paper given by hand."""

    # "an id or a title" (the handler answers 400 without either): a non-empty id is looked up,
    # as an id or a title, so it needs a letter or digit; without one the title must not be blank.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["id"], "properties": {"id": {"type": "string", "minLength": 1}}},
                {
                    "required": ["title"],
                    "properties": {"title": {"type": "string", "pattern": NOT_BLANK}},
                },
            ]
        },
    )

    id: str | None = Field(None, max_length=200, json_schema_extra={"pattern": ID_OR_TITLE})
    title: str | None = Field(None, max_length=MAX_QUERY_CHARS)
    abstract: str | None = Field(None, max_length=MAX_ABSTRACT_CHARS)
    k: JsonInt = Field(10, ge=1, le=MAX_K)


class CategorizeRequest(BaseModel):
    title: str = Field(
        ..., min_length=1, max_length=MAX_QUERY_CHARS, json_schema_extra={"pattern": NOT_BLANK}
    )
    abstract: str | None = Field(None, max_length=MAX_ABSTRACT_CHARS)
    year: Annotated[int, Field(ge=1000, le=9999), BeforeValidator(_json_integer)] | None = Field(
        None, description="places it in year order"
    )
    tags: list[Annotated[str, Field(max_length=MAX_TAG_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description='the tags the list would give it, as its badges do ("Diffusion")',
    )


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
        strict=True,  # true or false, as documented: not 0, 1 or "yes"
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
