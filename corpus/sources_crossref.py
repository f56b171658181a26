"""Crossref's REST API: a work by DOI; its abstract, when deposited, is JATS XML.

``GET /works/10.x/y`` answers ``{"status": "ok", "message-type": "work", "message": {"DOI",
"title": ["..."], "abstract": "<jats:title>Abstract</jats:title><jats:p>...</jats:p>"}}``
and 404 (plain text) for an unknown DOI. Crossref wants a contact in the User-Agent and
``mailto`` for its polite pool.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from secml_papers.corpus.polite import PoliteClient, SourceError
from secml_papers.corpus.sources_base import Candidate, clean_abstract, expect_ok, json_body
from secml_papers.corpus.titles import clean_title

_JATS_TITLE = re.compile(r"<jats:title[^>]*>.*?</jats:title>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"</?(?:jats:)?(?:p|sec|list|list-item|break)\b[^>]*>", re.IGNORECASE)
_INLINE = re.compile(r"<[^>]+>")


def strip_jats(abstract: str | None) -> str | None:
    """Plain text of a JATS abstract, without its "Abstract" heading.

    >>> strip_jats("<jats:title>Abstract</jats:title><jats:p>We show <jats:italic>x</jats:italic>.")
    'We show x.'
    """
    if not abstract:
        return None
    text = _INLINE.sub("", _BLOCK.sub(" ", _JATS_TITLE.sub(" ", abstract)))
    return re.sub(r"\s+", " ", text).strip()


class CrossrefSource:
    name = "crossref"

    def __init__(self, client: PoliteClient) -> None:
        self.client = client

    def by_doi(self, doi: str) -> Candidate | None:
        response = self.client.get(f"/works/{quote(doi, safe='/')}")
        if not expect_ok(response, self.name):
            return None
        body = json_body(response, self.name)
        work = body.get("message") if isinstance(body, dict) else None
        if not isinstance(work, dict):
            raise SourceError("crossref: unexpected answer (no message)")
        titles = work.get("title") or []
        title = titles[0] if isinstance(titles, list) and titles else None
        if not isinstance(title, str):
            return None  # a DOI registered without a title cannot be verified
        ids = {"doi": str(work.get("DOI") or doi).lower()}
        return Candidate(
            source="crossref",
            title=clean_title(title),
            abstract=clean_abstract(strip_jats(work.get("abstract"))),
            ids=ids,
        )
