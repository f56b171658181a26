"""Markdown list -> Paper records and the section tree, from markdown-it-py's tokens.

Pure: text in, records out. Every list item below a heading is either parsed into a paper,
skipped as a non-entry (a table-of-contents link), or reported as a warning with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from secml_papers.corpus.ids import assign_ids
from secml_papers.corpus.records import Paper, PaperList, ParseWarning, Section

_MD = MarkdownIt("commonmark")
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
_QUOTES = "\"'“”‘’«» "


@dataclass(frozen=True)
class _Entry:
    title: str
    authors: str
    venue: str | None
    year: int | None
    url: str | None
    section: tuple[str, ...]
    line: int


def parse_list(text: str) -> PaperList:
    """Parse an awesome list in the bundled format into papers, sections and warnings.

    >>> lst = parse_list('# L\\n\\n## Backdoors\\n\\n'
    ...     '- Wang et al. [**"Neural Cleanse"**](https://x.org/nc.pdf) @ **S&P 2019**.\\n')
    >>> p = lst.papers[0]
    >>> (p.title, p.authors, p.venue, p.year, p.url, p.section, p.line)
    ('Neural Cleanse', 'Wang et al.', 'S&P', 2019, 'https://x.org/nc.pdf', ('Backdoors',), 5)
    """
    tokens = _MD.parse(text)
    title: str | None = None
    stack: list[tuple[int, str]] = []
    headings: list[tuple[tuple[str, ...], int]] = []
    entries: list[_Entry] = []
    warnings: list[ParseWarning] = []
    depth = 0  # how many list items enclose the current token

    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            name = plain_text(tokens[i + 1].children or []).strip()
            line = _line(tok)
            if level == 1 and title is None and not headings:
                title = name
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, name))
            headings.append((tuple(h for _, h in stack), line))
        elif tok.type == "inline" and _is_item_paragraph(tokens, i):
            section = tuple(h for _, h in stack)
            result = _parse_item(tok, section)
            if isinstance(result, _Entry):
                entries.append(result)
            elif result is not None and (section or _looks_like_entry(tok)):
                warnings.append(ParseWarning(_line(tok), result))
        elif tok.type in ("list_item_open", "list_item_close"):
            depth += 1 if tok.type == "list_item_open" else -1
        elif (
            tok.type == "inline"
            and tokens[i - 1].type == "paragraph_open"
            and stack
            and depth == 0
            and _looks_like_entry(tok)
        ):
            warnings.append(
                ParseWarning(_line(tok), "this looks like an entry but is not a list item")
            )

    return PaperList(
        title=title,
        papers=_papers(entries),
        sections=_sections(headings, entries),
        warnings=tuple(warnings) + tuple(_incomplete(entries)),
    )


def _papers(entries: Sequence[_Entry]) -> tuple[Paper, ...]:
    details = [(e.title, f"{e.authors}|{e.venue}|{e.year}|{e.url}") for e in entries]
    ids = assign_ids(details)
    return tuple(
        Paper(
            id=pid,
            title=e.title,
            authors=e.authors,
            venue=e.venue,
            year=e.year,
            url=e.url,
            section=e.section,
            line=e.line,
        )
        for pid, e in zip(ids, entries, strict=True)
    )


def _sections(
    headings: Sequence[tuple[tuple[str, ...], int]], entries: Sequence[_Entry]
) -> tuple[Section, ...]:
    counts: dict[tuple[str, ...], int] = {}
    for e in entries:
        counts[e.section] = counts.get(e.section, 0) + 1
    paths = [p for p, _ in headings]
    return tuple(
        Section(
            path=path,
            line=line,
            count=counts.get(path, 0),
            has_subsections=any(len(o) > len(path) and o[: len(path)] == path for o in paths),
        )
        for path, line in headings
    )


def _incomplete(entries: Sequence[_Entry]) -> Iterator[ParseWarning]:
    for e in entries:
        if e.venue is None and e.year is None:
            yield ParseWarning(e.line, f"no venue and year after the title of {e.title!r}")
        elif e.year is None:
            yield ParseWarning(e.line, f"no year after the venue of {e.title!r}")


def _line(tok: Token) -> int:
    return tok.map[0] + 1 if tok.map else 0


def _is_item_paragraph(tokens: Sequence[Token], i: int) -> bool:
    """The first paragraph of a list item (tight or loose lists alike)."""
    return (
        i >= 2
        and tokens[i - 1].type == "paragraph_open"
        and (tokens[i - 2].type == "list_item_open")
    )


def plain_text(children: Sequence[Token]) -> str:
    parts = []
    for c in children:
        if c.type in ("text", "code_inline"):
            parts.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif c.type == "image":
            parts.append(plain_text(c.children or []))
    return re.sub(r"\s+", " ", "".join(parts))


def _looks_like_entry(tok: Token) -> bool:
    kids = tok.children or []
    return any(c.type == "strong_open" for c in kids) and any(c.type == "link_open" for c in kids)


def _parse_item(tok: Token, section: tuple[str, ...]) -> _Entry | str | None:
    """An entry, a warning message, or None for an item that is not an entry."""
    kids = list(tok.children or [])
    links = [j for j, c in enumerate(kids) if c.type == "link_open"]
    if links and all(str(kids[j].attrs.get("href", "")).startswith("#") for j in links):
        return None  # a table-of-contents item
    start = next((j for j in links if bold_in_link(kids, j)), None)
    if start is None:
        if not plain_text(kids).strip():
            return None
        return 'could not find a bold, linked title (- Authors [**"Title"**](url) @ **Venue Year**)'
    end = next(j for j in range(start, len(kids)) if kids[j].type == "link_close")
    title = plain_text(kids[start + 1 : end]).strip(_QUOTES).strip()
    if not title:
        return "the linked title is empty"
    href = str(kids[start].attrs.get("href") or "").strip()
    venue, year = _venue_year(kids[end + 1 :])
    return _Entry(
        title=title,
        authors=plain_text(kids[:start]).strip(),
        venue=venue,
        year=year,
        url=href or None,
        section=section,
        line=_line(tok),
    )


def bold_in_link(kids: Sequence[Token], start: int) -> bool:
    for c in kids[start + 1 :]:
        if c.type == "link_close":
            return False
        if c.type == "strong_open":
            return True
    return False


def _venue_year(after: Sequence[Token]) -> tuple[str | None, int | None]:
    """``@ **Venue Year**`` after the link; the bold part is preferred, plain text accepted."""
    bold = _first_strong(after)
    text = bold if bold is not None else plain_text(after).split("@", 1)[-1]
    text = text.strip().strip(".").strip()
    if not text:
        return None, None
    years = list(_YEAR.finditer(text))
    if not years:
        return text, None
    last = years[-1]
    venue = (text[: last.start()] + text[last.end() :]).strip(" ,'’")
    return venue or None, int(last.group(1))


def _first_strong(kids: Sequence[Token]) -> str | None:
    for j, c in enumerate(kids):
        if c.type == "strong_open":
            close = next(k for k in range(j, len(kids)) if kids[k].type == "strong_close")
            return plain_text(kids[j + 1 : close])
    return None
