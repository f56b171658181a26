"""OpenAlex: a work by DOI, or a title search; the abstract is rebuilt from its inverted index.

``GET /works/doi:10.x/y`` answers one work; ``GET /works?search=TITLE`` answers
``{"meta": ..., "results": [work, ...]}``. A work has ``id`` (``https://openalex.org/W...``),
``doi`` (a doi.org URL), ``title`` (or ``display_name``) and, instead of an abstract,
``abstract_inverted_index``: ``{"word": [positions], ...}``. ``mailto`` puts the requests in
the polite pool.
"""

from __future__ import annotations

from urllib.parse import quote

from secml_papers.corpus.polite import PoliteClient, SourceError
from secml_papers.corpus.sources_base import Candidate, clean_abstract, expect_ok, json_body
from secml_papers.corpus.titles import clean_title

SELECT = "id,doi,title,display_name,abstract_inverted_index"
SEARCH_RESULTS = 5


def rebuild_abstract(inverted: object) -> str | None:
    """The text of an ``abstract_inverted_index``: every word put back at each of its positions.

    >>> rebuild_abstract({"We": [0], "attack": [1, 3], "and": [2]})
    'We attack and attack'
    """
    if not isinstance(inverted, dict) or not inverted:
        return None
    slots: dict[int, str] = {}
    for word, positions in inverted.items():
        if isinstance(positions, list):
            for pos in positions:
                if isinstance(pos, int):
                    slots.setdefault(pos, str(word))
    return " ".join(slots[i] for i in sorted(slots)) or None


def candidate(work: object) -> Candidate:
    if not isinstance(work, dict):
        raise SourceError("openalex: unexpected answer (not a work object)")
    title = work.get("title") or work.get("display_name")
    if not isinstance(title, str):
        raise SourceError("openalex: unexpected answer (a work without a title)")
    ids = {}
    if isinstance(work.get("id"), str):
        ids["openalex_id"] = work["id"].rsplit("/", 1)[-1]
    if isinstance(work.get("doi"), str):
        ids["doi"] = work["doi"].lower().removeprefix("https://doi.org/")
    return Candidate(
        source="openalex",
        title=clean_title(title),
        abstract=clean_abstract(rebuild_abstract(work.get("abstract_inverted_index"))),
        ids=ids,
    )


class OpenAlexSource:
    name = "openalex"

    def __init__(self, client: PoliteClient) -> None:
        self.client = client

    def by_doi(self, doi: str) -> Candidate | None:
        response = self.client.get(f"/works/doi:{quote(doi, safe='/')}", {"select": SELECT})
        if not expect_ok(response, self.name):
            return None
        return candidate(json_body(response, self.name))

    def search_title(self, title: str) -> list[Candidate]:
        """The top works of a title search, best first by OpenAlex's own relevance."""
        params = {"search": clean_title(title), "per_page": SEARCH_RESULTS, "select": SELECT}
        response = self.client.get("/works", params)
        if not expect_ok(response, self.name):
            return []
        body = json_body(response, self.name)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise SourceError("openalex: unexpected answer to a search (no results list)")
        return [candidate(work) for work in results]
