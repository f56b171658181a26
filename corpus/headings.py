"""What a heading of a paper list is: a section, a year group, or a part to skip.

Headings are kept as written for display ("1.1.2 Image Classification"); :func:`heading_key`
is what they are matched by (numbering, emoji and case dropped), so ``--section "image
classification"`` finds that section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it.token import Token

from secml_papers.corpus.inline import BREAK, IMAGE, LINK, pieces, squash

_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.)\s+")
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_SYMBOLS = re.compile(r"[^\w\s&'’+./:,()-]")
_SKIP = re.compile(
    r"^(table of contents|contents|toc|news|updates?|(latest|recent) (news|updates)|"
    r"what'?s new|changelog|contribut\w*|how to\b|why\b|quick links|faq|usage|citations?|"
    r"cite( us| this)?|"
    r"citing|references?|bibtex|licen[cs]e|acknowledge?ments?|star history|stargazers|"
    r"contact( us)?|maintainers?)\b"
)
_YEAR_GROUP = re.compile(
    r"^(?:year\s+)?(19[5-9]\d|20\d\d)(?:\s*(?:and|or|&)?\s*(before|earlier|older|later|after))?$"
    r"|^(?:before|pre-?|prior to)\s*(19[5-9]\d|20\d\d)$"
)


def heading_name(children: Sequence[Token]) -> str:
    """A heading's text as written, without images (badges) or markup.

    >>> from markdown_it import MarkdownIt
    >>> kids = MarkdownIt().parseInline("1.2 **Backdoors** ![stars](https://x/b.svg)")[0].children
    >>> heading_name(kids)
    '1.2 Backdoors'
    """
    kept = [
        p
        for p in pieces(children)
        if p.kind not in (BREAK, IMAGE) and not (p.kind == LINK and (p.href or "").startswith("#"))
    ]  # "[Back to top](#contents)" links are navigation, not part of the name
    return squash(re.sub(r"[\[(]\s*[\])]", " ", "".join(p.text for p in kept)))


def heading_key(name: str) -> str:
    """How a heading is matched: no numbering, emoji or case.

    >>> heading_key("1.1.2 🔥 Image  Classification:")
    'image classification'
    """
    text = _SHORTCODE.sub(" ", name)
    text = _SYMBOLS.sub(" ", text)
    text = _NUMBERING.sub("", squash(text))
    return squash(text).strip(" :.-").casefold()


def is_skipped(name: str) -> bool:
    """Parts of a README that hold no papers: contents, news, contributing, citation, licence.

    >>> [is_skipped(n) for n in ("Table of Contents", "📰 News", "Contributing", "Backdoors")]
    [True, True, True, False]
    """
    return bool(_SKIP.match(heading_key(name)))


def year_group(name: str) -> tuple[bool, int | None]:
    """Whether a heading only groups entries by year, and the year when it names exactly one.

    >>> [year_group(n) for n in ("2022", "📅 2019 and before", "Backdoors")]
    [(True, 2022), (True, None), (False, None)]
    """
    match = _YEAR_GROUP.match(squash(_SYMBOLS.sub(" ", _SHORTCODE.sub(" ", name))).casefold())
    if match is None:
        return False, None
    exact = match.group(1) is not None and match.group(2) is None
    return True, int(match.group(1)) if exact else None


_YEAR_SUFFIX = re.compile(r"^(.*\S)\s*[-–—:,(]?\s*(19[5-9]\d|20\d\d)\)?$")


def year_suffix(name: str) -> tuple[str, int] | None:
    """``"Attack Papers 2023"`` -> ``("Attack Papers", 2023)``; None without a final year.

    >>> year_suffix("Attack Papers 2023"), year_suffix("Backdoors")
    (('Attack Papers', 2023), None)
    """
    match = _YEAR_SUFFIX.match(name.strip())
    if match is None or not match.group(1).strip(" -–—:,("):
        return None
    return match.group(1).strip(" -–—:,("), int(match.group(2))
