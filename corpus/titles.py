"""Is a title an API returned the title of the list entry we asked about?

Enrichment stores an abstract only when the returned title matches the entry's title, so a
wrong DOI, a reused arXiv link or a loose search hit never puts another paper's abstract in
the cache. The threshold is measured by ``bench/quality/enrich_title_match.py`` on the OWASP data
set: variants of a title (case, punctuation, a dropped subtitle, a typo, a "v2" suffix, HTML
entities or markup) against the titles of other papers.
"""

from __future__ import annotations

import html
import re

from rapidfuzz import fuzz

from secml_papers.corpus.ids import normalise_title

# Measured with bench/quality/enrich_title_match.py; see the README's "Abstracts" section.
TITLE_THRESHOLD = 90.0

_TAG = re.compile(r"<[^>]{1,200}>")
_SPACE = re.compile(r"\s+")
_SUBTITLE = re.compile(r"\s*(?::|\s-\s|\s–\s|\s—\s)\s*")
_VERSION = re.compile(r"\s*\(?\bv\d{1,2}\)?\s*$", re.IGNORECASE)
_MIN_MAIN_WORDS = 2  # a one-word main title ("SoK", "CADE") names too many papers


def clean_title(raw: str) -> str:
    """A title as an API writes it, made plain: entities decoded, tags and line breaks gone.

    >>> clean_title("Robust <i>k</i>-NN &amp; friends\\n  revisited")
    'Robust k-NN & friends revisited'
    """
    text = html.unescape(html.unescape(raw or ""))
    return _SPACE.sub(" ", _TAG.sub("", text)).strip()


def _forms(raw: str) -> tuple[str, str | None]:
    """The normalised full title, and its main title (before a subtitle) when meaningful."""
    text = _VERSION.sub("", clean_title(raw))
    full = normalise_title(text)
    parts = _SUBTITLE.split(text, maxsplit=1)
    main = normalise_title(parts[0]) if len(parts) == 2 else None
    if main is not None and (len(main.split()) < _MIN_MAIN_WORDS or main == full):
        main = None
    return full, main


def title_similarity(a: str, b: str) -> float:
    """0..100: how alike two titles are, forgiving a subtitle that one of them drops.

    The main title of one is compared with the whole of the other, never main with main,
    so two "SoK: ..." papers are not alike merely for sharing a prefix.

    >>> title_similarity("Neural Cleanse", "Neural Cleanse: Identifying Backdoors")
    100.0
    >>> title_similarity("SoK: Poisoning", "SoK: Model Extraction") < 90
    True
    """
    full_a, main_a = _forms(a)
    full_b, main_b = _forms(b)
    if not full_a or not full_b:
        return 0.0
    best = fuzz.ratio(full_a, full_b)
    if main_a:
        best = max(best, fuzz.ratio(main_a, full_b))
    if main_b:
        best = max(best, fuzz.ratio(full_a, main_b))
    return float(best)


def titles_match(
    entry_title: str, returned_title: str | None, threshold: float = TITLE_THRESHOLD
) -> bool:
    """True when ``returned_title`` is close enough to be the entry's own paper."""
    if not returned_title:
        return False
    return title_similarity(entry_title, returned_title) >= threshold
