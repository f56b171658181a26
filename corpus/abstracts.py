"""Matching cached abstracts to list entries, by identifier or normalised title.

Also the pure half of ``enrich --from``: reading records out of a JSON / JSON Lines text
(a plain list, one object per line, or a data set file ``{"papers": [...]}``) and pairing
them with entries, with the same title check as the online sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from secml_papers.corpus.errors import InputError
from secml_papers.corpus.ids import arxiv_id, doi, normalise_title
from secml_papers.corpus.records import Paper, PaperList
from secml_papers.corpus.titles import TITLE_THRESHOLD, title_similarity


def _doi_of(value: object) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    return doi(text) if "/" in text and not text.startswith("10.") else text.lower()


def match_keys(title: str | None, url: str | None, record: dict | None = None) -> list[str]:
    """The keys an entry or a record is known by: ``arxiv:``, ``doi:`` and ``title:``.

    >>> match_keys("Neural Cleanse!", "https://arxiv.org/abs/1234.56789v2")
    ['arxiv:1234.56789', 'title:neural cleanse']
    """
    record = record or {}
    keys = []
    for value in (record.get("arxiv_id"), arxiv_id(url)):
        if value:
            keys.append(f"arxiv:{str(value).lower()}")
    for value in (_doi_of(record.get("doi")), doi(url)):
        if value:
            keys.append(f"doi:{value}")
    if title and normalise_title(title):
        keys.append(f"title:{normalise_title(title)}")
    return list(dict.fromkeys(keys))


def attach_abstracts(papers: Sequence[Paper], records: Iterable[dict]) -> tuple[Paper, ...]:
    """Papers with ``abstract`` filled where a record matches by arXiv id, DOI or title.

    A match by identifier also needs a close title (when the record has one): lists do carry
    wrong links, and two entries sharing one must not share an abstract.

    >>> p = Paper("x", "Neural Cleanse", "", None, None, None, (), 1)
    >>> attach_abstracts([p], [{"title": "neural cleanse.", "abstract": "We ..."}])[0].abstract
    'We ...'
    """
    found: dict[str, tuple[str, str]] = {}
    for record in records:
        text = str(record.get("abstract") or "").strip()
        if text:
            title = str(record.get("title") or "")
            for key in match_keys(title, record.get("url"), record):
                found.setdefault(key, (text, title))
    out = []
    for paper in papers:
        match = None
        for key in match_keys(paper.title, paper.url):
            text, title = found.get(key, (None, ""))
            if text and (key.startswith("title:") or not title or _same(paper.title, title)):
                match = text
                break
        out.append(paper.with_abstract(match) if match else paper)
    return tuple(out)


def list_with_abstracts(found: PaperList, records: Sequence[dict]) -> PaperList:
    """The list with its entries' abstracts attached (``attach_abstracts``); itself when there
    are no records."""
    return found.with_papers(attach_abstracts(found.papers, records)) if records else found


def _same(a: str, b: str) -> bool:
    return title_similarity(a, b) >= TITLE_THRESHOLD


def parse_records(text: str, name: str) -> list[dict]:
    """Objects with an abstract from a JSON or JSON Lines text; InputError when it is neither.

    >>> parse_records('{"papers": [{"title": "T", "abstract": "A"}, {"title": "U"}]}', "f")
    [{'title': 'T', 'abstract': 'A'}]
    """
    try:
        data: object = json.loads(text)
    except json.JSONDecodeError:
        data = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    data.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise InputError(
                        f"{name} is neither JSON nor JSON Lines (line {number}: {err.msg})"
                    ) from err
    if isinstance(data, dict):
        data = data.get("papers", [data])
    if not isinstance(data, list):
        raise InputError(f"{name} holds no list of papers")
    return [r for r in data if isinstance(r, dict) and str(r.get("abstract") or "").strip()]


@dataclass
class Imported:
    """What ``enrich --from`` did: cache lines to append and what could not be used."""

    records: list[dict] = field(default_factory=list)
    mismatched: list[tuple[str, str]] = field(default_factory=list)
    unmatched: int = 0
    already: int = 0


def match_imports(
    papers: Sequence[Paper],
    records: Sequence[dict],
    source: str,
    threshold: float = TITLE_THRESHOLD,
) -> Imported:
    """Pair imported records with the entries lacking an abstract.

    A record matched only by an identifier must still carry a title close to the entry's,
    so a file with a wrong DOI cannot attach another paper's abstract.
    """
    wanted: dict[str, Paper] = {}
    for paper in papers:
        for key in match_keys(paper.title, paper.url):
            wanted.setdefault(key, paper)
    result, done = Imported(), set()
    for record in records:
        title = str(record.get("title") or "")
        keys = match_keys(title, str(record.get("url") or ""), record)
        paper = next((wanted[k] for k in keys if k in wanted), None)
        if paper is None:
            result.unmatched += 1
            continue
        if title and title_similarity(paper.title, title) < threshold:
            result.mismatched.append((paper.title, title))
            continue
        if paper.abstract or paper.id in done:
            result.already += 1
            continue
        done.add(paper.id)
        line = {"title": paper.title, "abstract": str(record["abstract"]).strip()}
        line |= {"source": source, "matched_title": title or None, "paper_id": paper.id}
        for key in match_keys(None, paper.url, None):
            kind, value = key.split(":", 1)
            line["arxiv_id" if kind == "arxiv" else "doi"] = value
        result.records.append(line)
    return result
