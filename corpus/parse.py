"""Markdown list -> Paper records and the section tree, from markdown-it-py's tokens.

Pure: text in, records out. The first H1 before any other heading is the list's title; every
other heading is a section, except parts that hold no papers (contents, news, contributing,
citation, licence: skipped with everything below them) and headings that only group by year
("#### 2021"), whose entries belong to the section above. A bold line on its own
(``**Image Classification**``), or a list item that is only a name with entries nested under
it, is a subsection. Entries are list items (see :mod:`secml_papers.corpus.entry` for the
shapes) or rows of a table with a title column (:mod:`secml_papers.corpus.tables`). Every list
item below a heading is parsed into a paper, skipped as a non-entry, or warned about
(:mod:`secml_papers.corpus.list_items`); the heading stack is :mod:`secml_papers.corpus.outline`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from secml_papers.corpus.headings import heading_name
from secml_papers.corpus.ids import assign_ids
from secml_papers.corpus.inline import BREAK, IMAGE, LINK, STRONG, TEXT, Piece, pieces
from secml_papers.corpus.list_items import LISTS, item_tree, token_line, visit_item
from secml_papers.corpus.outline import (
    Entry,
    WalkState,
    fold_year_siblings,
    section_records,
    with_group_year,
)
from secml_papers.corpus.records import Paper, PaperList, ParseWarning
from secml_papers.corpus.tables import table_entries

__all__ = ["parse_list"]

_MD = MarkdownIt("commonmark").enable("table")


def parse_list(text: str) -> PaperList:
    """Parse an awesome list of papers into papers, sections and warnings.

    >>> lst = parse_list('# L\\n\\n## Backdoors\\n\\n'
    ...     '- Wang et al. [**"Neural Cleanse"**](https://x.org/nc.pdf) @ **S&P 2019**.\\n')
    >>> p = lst.papers[0]
    >>> (p.title, p.authors, p.venue, p.year, p.url, p.section, p.line)
    ('Neural Cleanse', 'Wang et al.', 'S&P', 2019, 'https://x.org/nc.pdf', ('Backdoors',), 5)
    """
    tokens = _MD.parse(text)
    state = WalkState()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            state.heading(
                int(tok.tag[1]), heading_name(tokens[i + 1].children or []), token_line(tok)
            )
            i += 3
        elif state.skip_level:
            if tok.type in ("list_item_open", "tr_open"):
                state.skipped.append(token_line(tok))
            i += 1
        elif tok.type in LISTS:
            items, i = item_tree(tokens, i)
            for item in items:
                visit_item(state, item, state.section)
        elif tok.type == "table_open":
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
            table = tokens[i : end + 1]
            if state.stack:
                fields, messages, skipped = table_entries(table)
                state.entries.extend(
                    Entry(with_group_year(f, state), state.section, line) for line, f in fields
                )
                state.warnings.extend(ParseWarning(line, m) for line, m in messages)
                state.skipped.extend(skipped)
            else:
                state.skipped.extend(token_line(t) for t in table if t.type == "tr_open")
            i = end + 1
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            _paragraph(state, tok)
            i += 1
        else:
            i += 1
    fold_year_siblings(state)
    introduction = " ".join(state.introduction)
    return PaperList(
        title=state.title,
        papers=_papers(state.entries),
        sections=section_records(state.headings, state.entries, state.prose, introduction),
        warnings=tuple(sorted(state.warnings + list(_incomplete(state.entries)), key=_by_line)),
        skipped=tuple(sorted(set(state.skipped))),
        introduction=introduction,
    )


def _by_line(w: ParseWarning) -> int:
    return w.line


def _paragraph(state: WalkState, tok: Token) -> None:
    """A paragraph outside any list: a bold pseudo-heading, an entry that lost its bullet, or
    prose: the list's introduction, or what a heading says its section holds (kept because a
    section without entries has nothing else but its name to be recognised by)."""
    row = [p for p in pieces(tok.children or []) if p.text.strip(" :") and p.kind != IMAGE]
    if not state.stack:
        state.add_prose(_prose(row))
        return
    if len(row) == 1 and row[0].kind == STRONG and len(row[0].text) <= 80:
        name = row[0].text.strip().rstrip(":").strip()
        state.pseudo = name
        state.headings.append((state.section, token_line(tok)))
        return
    links = [p for p in row if p.kind == LINK and not (p.href or "").startswith("#")]
    if any(p.bold for p in links) or (any(p.kind == STRONG for p in row) and links):
        state.warnings.append(
            ParseWarning(token_line(tok), "this looks like an entry but is not a list item")
        )
        return
    state.add_prose(_prose(row))


_MIN_PROSE_WORDS = 3  # fewer: a "back to top" link or a label, not a description


def _prose(row: Sequence[Piece]) -> str:
    """A paragraph's words (links by their text, badges and breaks dropped), or "" when it is
    not prose: no plain text of its own, or only a few words.

    >>> from markdown_it import MarkdownIt
    >>> kids = MarkdownIt().parseInline("Papers on *stealing* [models](https://x.org).")[0].children
    >>> _prose(pieces(kids))
    'Papers on stealing models.'
    """
    if not any(p.kind == TEXT and p.text.strip() for p in row):
        return ""
    text = " ".join("".join(p.text for p in row if p.kind != BREAK).split())
    return text if len(text.split()) >= _MIN_PROSE_WORDS else ""


def _papers(entries: Sequence[Entry]) -> tuple[Paper, ...]:
    details = [
        (e.fields.title, f"{e.fields.authors}|{e.fields.venue}|{e.fields.year}|{e.fields.url}")
        for e in entries
    ]
    ids = assign_ids(details)
    return tuple(
        Paper(
            id=pid,
            title=e.fields.title,
            authors=e.fields.authors,
            venue=e.fields.venue,
            year=e.fields.year,
            url=e.fields.url,
            section=e.section,
            line=e.line,
            note=e.fields.note,
            tags=e.fields.tags,
        )
        for pid, e in zip(ids, entries, strict=True)
    )


def _incomplete(entries: Sequence[Entry]) -> Iterator[ParseWarning]:
    for e in entries:
        f = e.fields
        if f.venue is None and f.year is None:
            yield ParseWarning(e.line, f"no venue and year after the title of {f.title!r}")
        elif f.year is None:
            yield ParseWarning(e.line, f"no year after the venue of {f.title!r}")
