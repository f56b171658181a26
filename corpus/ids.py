"""Identity of a paper: normalised titles, arXiv ids, DOIs, URLs, and stable ids.

An id is derived from the paper itself (its normalised title), never from its position, so
it survives rebuilds, reorderings and moves between sections.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ARXIV = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s?#\"<>]+)", re.IGNORECASE)


def normalise_title(title: str) -> str:
    """Case, accents and punctuation folded away.

    >>> normalise_title('"Are adversarial examples inevitable?"')
    'are adversarial examples inevitable'
    """
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub(" ", text.casefold()).strip()


def arxiv_id(url: str | None) -> str | None:
    """The arXiv id of an abs, pdf or html link, without its version.

    >>> arxiv_id("https://arxiv.org/pdf/2411.11525v2?")
    '2411.11525'
    """
    if not url:
        return None
    match = _ARXIV.search(url)
    return match.group("id").lower() if match else None


def doi(url: str | None) -> str | None:
    """The DOI carried by a doi.org link or a publisher link such as dl.acm.org/doi/pdf/...

    >>> doi("https://dl.acm.org/doi/pdf/10.1145/3589335.3651525")
    '10.1145/3589335.3651525'
    """
    if not url or "arxiv.org" in url.lower():
        return None
    match = _DOI.search(unquote(url))
    if not match:
        return None
    found = match.group(1).rstrip(".")
    return re.sub(r"\.pdf$", "", found, flags=re.IGNORECASE).lower()


def normalise_url(url: str | None) -> str | None:
    """A URL with scheme, ``www.``, a trailing ``?``/``#``/``/`` and host case folded away.

    >>> normalise_url("https://www.Example.org/paper.pdf?")
    'example.org/paper.pdf'
    """
    if not url or not url.strip():
        return None
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}" or None


def _slug(norm_title: str) -> str:
    slug = ""
    for word in norm_title.split()[:6]:
        if slug and len(slug) + 1 + len(word) > 40:
            break
        slug = f"{slug}-{word}" if slug else word[:40]
    return slug or "untitled"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def paper_id(title: str) -> str:
    """A readable, stable id: a slug of the title and a hash of its normalised form.

    >>> paper_id("Neural Cleanse: Identifying and Mitigating Backdoor Attacks in Neural Networks")
    'neural-cleanse-identifying-and-b1b4a7fb'
    """
    norm = normalise_title(title)
    return f"{_slug(norm)}-{_digest(norm)}"


def assign_ids(entries: Sequence[tuple[str, str]]) -> list[str]:
    """Ids for ``(title, details)`` pairs, distinct even when titles repeat.

    A title seen once gets :func:`paper_id`. Repeated titles are told apart by their other
    details (authors, venue, year, link), so the result does not depend on their order; only
    entries identical in every respect fall back to a ``-2``, ``-3`` suffix.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (title, _) in enumerate(entries):
        groups[normalise_title(title)].append(i)
    ids = [""] * len(entries)
    for norm, members in groups.items():
        if len(members) == 1:
            ids[members[0]] = f"{_slug(norm)}-{_digest(norm)}"
            continue
        seen: dict[str, int] = defaultdict(int)
        for i in members:
            base = f"{_slug(norm)}-{_digest(norm + '|' + entries[i][1])}"
            seen[base] += 1
            ids[i] = base if seen[base] == 1 else f"{base}-{seen[base]}"
    return ids
