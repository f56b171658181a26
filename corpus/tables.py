"""Rows of a Markdown table of papers -> entry fields.

Many lists keep papers in tables::

    | Year | Title | Venue | Paper | Code |
    |------|-------|-------|-------|------|
    | 2019 | Neural Cleanse | S&P | [pdf](https://x/nc.pdf) | [code](https://github.com/x) |

Columns are recognised by their header (title, venue, year, link, authors, note); a table
without a title column (nor a paper column whose cells are linked titles) holds no papers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it.token import Token

from secml_papers.corpus.entry import YEAR, Fields, is_label, names, split_year
from secml_papers.corpus.headings import heading_key
from secml_papers.corpus.inline import CODE, LINK, Piece, pieces, squash

_TITLE = re.compile(r"^(paper |article )?(title|name)s?$")
_TITLE_FALLBACK = re.compile(r"^(papers?|publications?|articles?)$")
_ROLES = (
    ("year", re.compile(r"^(year|date|time)$")),
    ("venue", re.compile(r"venue|conference|journal|booktitle|proceedings|source|^pub")),
    ("authors", re.compile(r"authors?|researchers?")),
    ("link", re.compile(r"pdf|link|url|arxiv|download|paper link|^paper$|^papers?$")),
    ("note", re.compile(r"note|summary|description|tl.?dr|keywords?|key ?ideas?|remarks?|topic")),
)


def table_entries(
    tokens: Sequence[Token],
) -> tuple[list[tuple[int, Fields]], list[tuple[int, str]], list[int]]:
    """(line, fields) per paper row, (line, message) per row that is not understood, and the
    lines of rows that are no papers (the header, empty rows, a table without titles)."""
    rows = _rows(tokens)
    roles = _roles([squash("".join(p.text for p in cell)) for cell in rows[0][1]]) if rows else {}
    if "title" not in roles:
        return [], [], [line for line, _ in rows]
    entries: list[tuple[int, Fields]] = []
    messages: list[tuple[int, str]] = []
    skipped = [rows[0][0]]
    for line, cells in rows[1:]:
        fields = _row(cells, roles)
        if isinstance(fields, Fields):
            entries.append((line, fields))
        elif fields:
            messages.append((line, fields))
        else:
            skipped.append(line)
    return entries, messages, skipped


def _rows(tokens: Sequence[Token]) -> list[tuple[int, list[list[Piece]]]]:
    rows: list[tuple[int, list[list[Piece]]]] = []
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            rows.append((tok.map[0] + 1 if tok.map else 0, []))
        elif tok.type == "inline" and rows and tokens[i - 1].type in ("th_open", "td_open"):
            rows[-1][1].append(pieces(tok.children or []))
    return rows


def _roles(headers: Sequence[str]) -> dict[str, int]:
    """Column index per role: a "Title" column, else a "Paper" one, holds the titles."""
    keys = [heading_key(h) for h in headers]
    roles: dict[str, int] = {}
    for pattern in (_TITLE, _TITLE_FALLBACK):
        column = next((c for c, key in enumerate(keys) if pattern.search(key)), None)
        if column is not None:
            roles["title"] = column
            break
    for column, key in enumerate(keys):
        if column == roles.get("title"):
            continue
        for role, pattern in _ROLES:
            if role not in roles and pattern.search(key):
                roles[role] = column
                break
    return roles


def _row(cells: Sequence[Sequence[Piece]], roles: dict[str, int]) -> Fields | str | None:
    def cell(role: str) -> Sequence[Piece]:
        column = roles.get(role)
        return cells[column] if column is not None and column < len(cells) else ()

    def text(role: str) -> str:
        return squash(" ".join(p.text for p in cell(role) if p.kind != LINK or not is_label(p)))

    title_cell = cell("title")
    title_link = next((p for p in title_cell if p.kind == LINK and not is_label(p)), None)
    title = squash(title_link.text if title_link else text("title")).strip("\"'“”. ")
    if not title:
        return (
            None
            if not any(squash("".join(p.text for p in c)) for c in cells)
            else ("this table row has no title")
        )
    url = (title_link.href if title_link else None) or _first_link(cell("link")) or None
    venue, year = split_year(text("venue")) if text("venue") else (None, None)
    year_match = YEAR.search(text("year"))
    if year_match:
        year = int(year_match.group(1))
    note = text("note") or " ".join(p.text for p in title_cell if p.kind == CODE) or None
    return Fields(title, names(text("authors")), venue, year, url, note)


def _first_link(cell: Sequence[Piece]) -> str | None:
    for p in cell:
        if p.kind == LINK and p.href and not p.href.startswith("#"):
            return p.href.strip()
    return None
