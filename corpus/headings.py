"""What a heading of a paper list is: a section, a year group, or a part to skip.

Headings are kept as written for display ("1.1.2 Image Classification"); :func:`heading_key`
is what they are matched by (numbering, emoji and case dropped), so ``--section "image
classification"`` finds that section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it.token import Token

from secml_papers.corpus.inline import BREAK, pieces, squash

_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.)\s+")
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_SYMBOLS = re.compile(r"[^\w\s&'’+./:,()-]")
_SKIP = re.compile(
    r"^(table of contents|contents|toc|news|updates?|(latest|recent) (news|updates)|"
    r"what'?s new|changelog|contribut\w*|how to (contribute|cite)|citations?|cite( us| this)?|"
    r"citing|references?|bibtex|licen[cs]e|acknowledge?ments?|star history|stargazers|"
    r"contact( us)?|maintainers?)\b"
)
_YEAR_GROUP = re.compile(
    r"^(?:year\s+)?((?:19|20)\d\d)(?:\s*(?:and|or|&)?\s*(before|earlier|older|later|after))?$"
    r"|^(?:before|pre-?|prior to)\s*((?:19|20)\d\d)$"
)


def heading_name(children: Sequence[Token]) -> str:
    """A heading's text as written, without images (badges) or markup.

    >>> from markdown_it import MarkdownIt
    >>> kids = MarkdownIt().parseInline("1.2 **Backdoors** ![stars](https://x/b.svg)")[0].children
    >>> heading_name(kids)
    '1.2 Backdoors'
    """
    return squash("".join(p.text for p in pieces(children) if p.kind != BREAK))


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
