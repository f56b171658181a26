"""Semantic Scholar's graph API: a paper by DOI or arXiv id, or the best match for a title.

``GET /graph/v1/paper/DOI:10.x/y`` (or ``ARXIV:2101.00001``) and
``GET /graph/v1/paper/search/match?query=TITLE`` answer ``{"paperId", "title", "abstract",
"externalIds": {"DOI", "ArXiv", ...}}`` (the match wrapped in ``{"data": [...]}``), and 404
when nothing is known. The abstract is often null: publishers do not all license it.
"""

from __future__ import annotations

from urllib.parse import quote

from secml_papers.corpus.polite import PoliteClient, SourceError
from secml_papers.corpus.sources_base import (
    Candidate,
    Target,
    clean_abstract,
    expect_ok,
    json_body,
)
from secml_papers.corpus.titles import clean_title

FIELDS = "title,abstract,externalIds"


def candidate(data: object) -> Candidate:
    """A Candidate from one paper object of the graph API."""
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise SourceError("s2: unexpected answer (no paper title)")
    ids = {"s2_id": str(data.get("paperId") or "")}
    external = data.get("externalIds") or {}
    if isinstance(external, dict):
        if external.get("DOI"):
            ids["doi"] = str(external["DOI"]).lower()
        if external.get("ArXiv"):
            ids["arxiv_id"] = str(external["ArXiv"]).lower()
    abstract = data.get("abstract")
    return Candidate(
        source="s2",
        title=clean_title(data["title"]),
        abstract=clean_abstract(abstract if isinstance(abstract, str) else None),
        ids={k: v for k, v in ids.items() if v},
    )


class SemanticScholarSource:
    name = "s2"

    def __init__(self, client: PoliteClient) -> None:
        self.client = client

    def by_id(self, target: Target) -> Candidate | None:
        """The paper with the entry's DOI (preferred) or arXiv id, if S2 knows it."""
        if target.doi:
            ident = f"DOI:{target.doi}"
        elif target.arxiv_id:
            ident = f"ARXIV:{target.arxiv_id}"
        else:
            return None
        response = self.client.get(f"/graph/v1/paper/{quote(ident, safe=':/')}", {"fields": FIELDS})
        if not expect_ok(response, self.name):
            return None
        return candidate(json_body(response, self.name))

    def match_title(self, title: str) -> Candidate | None:
        """S2's single best match for a title (404 when it has none)."""
        response = self.client.get(
            "/graph/v1/paper/search/match", {"query": clean_title(title), "fields": FIELDS}
        )
        if not expect_ok(response, self.name):
            return None
        body = json_body(response, self.name)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise SourceError("s2: unexpected answer to a title match (no data list)")
        return candidate(data[0]) if data else None
