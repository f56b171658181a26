"""Matching cached abstracts to list entries, by identifier or normalised title."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from secml_papers.corpus.ids import arxiv_id, doi, normalise_title
from secml_papers.corpus.records import Paper


def _keys(title: str | None, url: str | None, record: dict | None = None) -> list[str]:
    record = record or {}
    keys = []
    for value in (record.get("arxiv_id"), arxiv_id(url)):
        if value:
            keys.append(f"arxiv:{str(value).lower()}")
    for value in (record.get("doi"), doi(url)):
        if value:
            keys.append(f"doi:{str(value).lower()}")
    if title and normalise_title(title):
        keys.append(f"title:{normalise_title(title)}")
    return keys


def attach_abstracts(papers: Sequence[Paper], records: Iterable[dict]) -> tuple[Paper, ...]:
    """Papers with ``abstract`` filled where a record matches by arXiv id, DOI or title.

    >>> p = Paper("x", "Neural Cleanse", "", None, None, None, (), 1)
    >>> attach_abstracts([p], [{"title": "neural cleanse.", "abstract": "We ..."}])[0].abstract
    'We ...'
    """
    found: dict[str, str] = {}
    for record in records:
        text = str(record.get("abstract") or "").strip()
        if text:
            for key in _keys(record.get("title"), record.get("url"), record):
                found.setdefault(key, text)
    out = []
    for paper in papers:
        match = next((found[k] for k in _keys(paper.title, paper.url) if k in found), None)
        out.append(paper.with_abstract(match) if match else paper)
    return tuple(out)
