"""One list item of a paper list -> title, link, authors, venue, year and note.

Public lists write entries in a handful of shapes, all handled here::

    - Wang et al. [**"Neural Cleanse"**](https://x/nc.pdf) @ **S&P 2019**.
    - [**Neural Cleanse**](https://x/nc.pdf) (Wang et al., 2019) ([code](https://github.com/x))
    * [Neural Cleanse](https://x/nc.pdf), B. Wang et al., S&P 2019
    1. **Neural Cleanse**. S&P 2019. `reverse-engineers triggers` [[pdf](https://x/nc.pdf)]
    - Neural Cleanse.
      [[pdf]](https://x/nc.pdf) [[code]](https://github.com/x)
      - Bolun Wang, Yuanshun Yao and Ben Y. Zhao. *S&P*, 2019.

The title is, in order of preference: a link with bold text; a link whose text is not a label
such as ``pdf`` or ``[code]``; bold text; the item's leading text. The paper's link is the
title's, else the first link labelled as the paper (pdf, arXiv, doi, ...). A code span is the
entry's note (a one-line summary); so is a `` - description`` after a linked title. Badges
other than the venue's (``![Diffusion](https://img.shields.io/...)``, ``![Defense](...)``) are
the entry's tags: labels the list gives its entries, which say what the title may not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from secml_papers.corpus.inline import BREAK, CODE, EM, IMAGE, LINK, STRONG, TEXT, Piece, squash

YEAR = re.compile(r"(?<!\d)(?<!\d\.)(19[5-9]\d|20\d\d)(?!\d|\.\d)")
_LABEL = re.compile(
    r"^\W*(?:(?:pdf|paper|papers|code|codes|arxiv|link|links|html|project(?: page)?|page|"
    r"website|web|home ?page|slides?|video|talk|poster|github|git|doi|docs?|documentation|bib|"
    r"bibtex|openreview|official|supp\w*|blog|demo|dataset|data|models?|url|abs|abstract|pub\w*|"
    r"springer|acm|ieee|extension|preprint|proceedings|download|repo\w*|source|tweet|twitter|"
    r"thesis|report|notes?|summary|review|journal|conference|workshop|full text|camera ready|"
    r"leaderboard)"
    r"\W*)+$",
    re.IGNORECASE,
)
_PAPER_LABEL = re.compile(
    r"pdf|paper|arxiv|link|html|doi|openreview|abs|pub|springer|acm|ieee|proceedings|preprint|"
    r"journal|conference|workshop|full text|camera ready|official",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’«» "
_DATE = re.compile(r"[\[(]?\s*(19[5-9]\d|20\d\d)(?:[/.-]\d{1,2}){0,2}\s*[\])]?")
_BADGE = re.compile(r"^([A-Za-z][\w&.+ -]*?)[\s_-]*['’]?(\d{2}|19[5-9]\d|20\d\d)$")
_QUALIFIER = re.compile(r"\s*\([^()]*\)$")  # "ICLR'24 (Oral)"
_DASH_NOTE = re.compile(r"^\s*(?:[-–—:]|\|)\s+(.+)$", re.DOTALL)
_NAMES = re.compile(r"\bet al\b|,.*\band\b|^[A-Z][\w'’-]*(?: [A-Z][\w.'’-]*)+,", re.IGNORECASE)


@dataclass(frozen=True)
class Fields:
    title: str
    authors: str
    venue: str | None
    year: int | None
    url: str | None
    note: str | None
    tags: tuple[str, ...] = ()


def is_label(link: Piece) -> bool:
    """A link that names a resource (``pdf``, ``[code]``, a badge) rather than a paper."""
    text = link.text.strip()
    return not text or (text.startswith("[") and text.endswith("]")) or bool(_LABEL.match(text))


def parse_entry(
    main: Sequence[Piece], details: Sequence[Sequence[Piece]] = ()
) -> Fields | str | None:
    """The fields of an item, a message saying why it is not an entry, or None to skip it.

    ``main`` is the item's first paragraph; ``details`` its further lines: nested items with no
    title of their own (``- Authors. *Venue*, Year.``) and later paragraphs.
    """
    links = [p for p in main if p.kind == LINK]
    if links and all((p.href or "").startswith("#") for p in links):
        return None  # a table-of-contents item
    if not squash("".join(p.text for p in main if p.kind != IMAGE)):
        return None  # empty, or only badges
    found = _title(main)
    if found is None:
        return "could not find a title in this item"
    at, title, href = found
    title = _clean_title(title)
    if not title:
        return "the title of this item is empty"
    rest = [*main[at + 1 :]] if at >= 0 else _after_leading_text(main)
    before = squash("".join(p.text for p in main[: max(at, 0)] if p.kind in (TEXT, EM, STRONG)))
    url = href if href is not None else _paper_link(main, details)
    note = " ".join(p.text.strip() for p in (*main, *_flat(details)) if p.kind == CODE) or None
    date = _DATE.fullmatch(before)
    if date:  # "- [2025/06] **[Title](url)**": a date, not authors
        before = ""
    authors, venue, year, dash_note = _venue_year_authors(before, rest, details)
    note = note or dash_note
    if venue is None:
        venue, year = _badge_venue(rest, year)
    if year is None and date:
        year = int(date.group(1))
    if url is None and year is None and venue is None:
        return "found no link, venue or year for this item; is it a paper?"
    return Fields(title, authors, venue, year, url or None, note, badge_tags(main))


def _title(main: Sequence[Piece]) -> tuple[int, str, str | None] | None:
    """(index of the title piece or -1 for leading text, title, the title link's href)."""
    for j, p in enumerate(main):
        if p.kind == LINK and p.bold and not is_label(p):
            return j, p.text, (p.href or "").strip()
    for j, p in enumerate(main):
        if p.kind == LINK and not is_label(p) and not (p.href or "").startswith("#"):
            return j, p.text, (p.href or "").strip()
    for j, p in enumerate(main):
        if p.kind == STRONG and len(p.text.split()) >= 2:
            return j, p.text, None
    leading = squash("".join(p.text for p in _leading(main)))
    if len(leading.split()) >= 2:
        return -1, leading, None
    return None


def _leading(main: Sequence[Piece]) -> list[Piece]:
    out = []
    for p in main:
        if p.kind not in (TEXT, EM):
            break
        out.append(p)
    return out


def _after_leading_text(main: Sequence[Piece]) -> list[Piece]:
    return list(main[len(_leading(main)) :])


def _clean_title(title: str) -> str:
    title = squash(title).strip(_QUOTES)
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1].rstrip(_QUOTES)
    return title.strip()


def _flat(details: Sequence[Sequence[Piece]]) -> list[Piece]:
    return [p for line in details for p in line]


def _paper_link(main: Sequence[Piece], details: Sequence[Sequence[Piece]]) -> str | None:
    links = [p for p in (*main, *_flat(details)) if p.kind == LINK and p.href]
    for p in links:
        if _PAPER_LABEL.search(p.text) and not (p.href or "").startswith("#"):
            return (p.href or "").strip()
    return None


def _text(pieces: Sequence[Piece]) -> str:
    """Plain text without labels, code spans and the brackets that held them."""
    parts = []
    for p in pieces:
        if p.kind == LINK and is_label(p):
            parts.append(" ")
        elif p.kind in (TEXT, EM, STRONG, LINK):
            parts.append(p.text)
        elif p.kind in (BREAK, CODE):
            parts.append(" ")
    text = "".join(parts)
    text = re.sub(r"[\[(]\s*[\])]", " ", text)  # brackets left empty by a removed label
    return squash(text)


def _venue_year_authors(
    before: str, rest: Sequence[Piece], details: Sequence[Sequence[Piece]]
) -> tuple[str, str | None, int | None, str | None]:
    """(authors, venue, year, dash note) from the text around the title."""
    authors = names(before)
    for p in rest:
        if p.kind == STRONG and p.text.strip():  # - A [**"T"**](u) @ **Venue Year**
            venue, year = split_year(p.text)
            return authors, venue, year, None
    text = _text(rest)
    if "@" in text:
        venue, year = split_year(text.split("@", 1)[1].split(". ")[0])
        return authors, venue, year, None
    note = None
    dash = _DASH_NOTE.match(text)
    if dash and not YEAR.search(dash.group(1)):
        note, text = squash(dash.group(1)), ""
    for source in [rest, *details]:
        found = _from_em(source)
        if found is not None:
            venue, year, written = found
            return authors or written, venue, year, note
    for line in [text, *(_text(d) for d in details)]:
        found_plain = _from_plain(line)
        if found_plain is not None:
            venue, year, written = found_plain
            return authors or written, venue, year, note
    return authors, None, None, note


def _badge_venue(rest: Sequence[Piece], year: int | None) -> tuple[str | None, int | None]:
    """A venue written as a badge, ``![ICLR'25](https://img.shields.io/...)``."""
    for p in rest:
        match = _BADGE.match(p.text.strip()) if p.kind == IMAGE else None
        if match:
            digits = match.group(2)
            return match.group(1).replace("_", " ").strip(), int(
                digits if len(digits) == 4 else f"20{digits}"
            )
    return None, year


def badge_tags(pieces: Sequence[Piece]) -> tuple[str, ...]:
    """The alt texts of an entry's badges, venue badges aside (with their qualifier too: "ICLR'24
    (Spotlight)"), each once, underscores as spaces.

    >>> badge_tags([Piece(IMAGE, "LLM"), Piece(IMAGE, "CCS'25"), Piece(IMAGE, "New_dataset"),
    ...             Piece(IMAGE, "ICLR'24_(Spotlight)")])
    ('LLM', 'New dataset')
    """
    found: dict[str, None] = {}
    for p in pieces:
        text = squash(p.text.replace("_", " ")) if p.kind == IMAGE else ""
        if text and not _BADGE.match(_QUALIFIER.sub("", text)):
            found.setdefault(text, None)
    return tuple(found)


def split_year(text: str) -> tuple[str | None, int | None]:
    """``"S&P 2019"`` -> ``("S&P", 2019)``: the last year in the text and what is left."""
    text = squash(text).strip(" .,;:")
    years = list(YEAR.finditer(text))
    if not years:
        return text or None, None
    last = years[-1]
    venue = (text[: last.start()] + text[last.end() :]).strip(" ,'’.;:()")
    return venue or None, int(last.group(1))


def _from_em(pieces: Sequence[Piece]) -> tuple[str | None, int | None, str] | None:
    """``Authors. *Venue*, Year.``: the italic part is the venue; ``*A. One, B. Two*. Venue
    Year.``: italic names are the authors, and the venue follows."""
    for j, p in enumerate(pieces):
        if p.kind == EM and p.text.strip():
            venue, year = split_year(p.text)
            if year is None and ("," in p.text or "et al" in p.text):
                after = _from_plain(_text(pieces[j + 1 :]))
                if after is not None:
                    return after[0], after[1], names(p.text)
            if year is None:
                match = YEAR.search(_text(pieces[j + 1 :]))
                year = int(match.group(1)) if match else None
            return venue, year, names(_text(pieces[:j]))
    return None


def _from_plain(text: str) -> tuple[str | None, int | None, str] | None:
    """The last year of the text, its venue (the words around it) and the authors before.

    >>> _from_plain(", A. Author et al., ICLR 2018")
    ('ICLR', 2018, 'A. Author et al.')
    >>> _from_plain("Yiming Li and Shu-Tao Xia. arXiv, 2020.")
    ('arXiv', 2020, 'Yiming Li and Shu-Tao Xia')
    >>> _from_plain("(Wang et al., 2019)")
    (None, 2019, 'Wang et al.')
    """
    years = list(YEAR.finditer(text))
    if not years:
        return None
    year = years[-1]
    cut = _last_boundary(text, year.start())
    end = _next_boundary(text, year.end())
    venue = (text[cut : year.start()] + text[year.end() : end]).strip(" ,.;:()[]'’-")
    head = text[:cut]
    if not venue and head.rstrip().endswith(","):
        prev = _last_boundary(head, len(head.rstrip()) - 1)
        candidate = head[prev:].strip(" ,.;:()[]-")
        sentence = prev == 0 or head[:prev].rstrip().endswith(".")
        if candidate and sentence and not _NAMES.search(candidate + ","):
            venue, head = candidate, head[:prev]
    if venue and _NAMES.search(venue):
        return None, int(year.group(1)), venue
    return venue or None, int(year.group(1)), names(head)


def names(text: str) -> str:
    """Authors as written, without the punctuation around them ("et al." keeps its dot)."""
    text = squash(text).strip(" ,;:()[]-")
    if text.endswith(".") and not text.endswith("al."):
        text = text[:-1].rstrip()
    return text


def _last_boundary(text: str, before: int) -> int:
    best = 0
    for match in re.finditer(r"\. |, |; |\(|\| | [-–—] ", text[:before]):
        best = match.end()
    return best


def _next_boundary(text: str, after: int) -> int:
    match = re.search(r"[.,;)|]", text[after:])
    return after + match.start() if match else len(text)
