"""arXiv's query API (Atom XML), asked for many ids in one request.

arXiv asks for about one request per 3 s, so ids are sent in batches through ``id_list``.
Each ``<entry>`` carries ``<id>http://arxiv.org/abs/ID vN</id>``, ``<title>`` and
``<summary>`` (the abstract); an error comes back as an entry whose id points into
``/api/errors``. Titles and summaries are wrapped over several lines, so whitespace is folded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from secml_papers.corpus.ids import arxiv_id
from secml_papers.corpus.polite import PoliteClient, SourceError
from secml_papers.corpus.sources_base import Candidate, clean_abstract
from secml_papers.corpus.titles import clean_title

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
BATCH = 20


def parse_feed(text: str) -> dict[str, Candidate]:
    """Candidates by arXiv id (without version) from an Atom feed of the query API."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise SourceError(f"arxiv: malformed Atom feed ({err})") from err
    found: dict[str, Candidate] = {}
    for entry in root.iter(f"{ATOM}entry"):
        link = entry.findtext(f"{ATOM}id") or ""
        ident = arxiv_id(link)
        if ident is None or "/api/errors" in link:
            continue
        ids = {"arxiv_id": ident}
        doi = (entry.findtext(f"{ARXIV}doi") or "").strip().lower()
        if doi:
            ids["doi"] = doi
        found[ident] = Candidate(
            source="arxiv",
            title=clean_title(entry.findtext(f"{ATOM}title") or ""),
            abstract=clean_abstract(entry.findtext(f"{ATOM}summary")),
            ids=ids,
        )
    return found


class ArxivSource:
    name = "arxiv"
    batch = BATCH

    def __init__(self, client: PoliteClient) -> None:
        self.client = client

    def by_ids(self, ids: Sequence[str]) -> dict[str, Candidate]:
        """The papers arXiv knows among ``ids`` (at most :data:`BATCH` per request)."""
        found: dict[str, Candidate] = {}
        for start in range(0, len(ids), self.batch):
            chunk = list(ids[start : start + self.batch])
            params = {"id_list": ",".join(chunk), "max_results": len(chunk)}
            response = self.client.get("/api/query", params)
            if response.status_code == 400:  # an id arXiv calls malformed: none of them here
                continue
            if response.status_code != 200:
                raise SourceError(f"arxiv: HTTP {response.status_code}")
            found.update(parse_feed(response.text))
        return found
