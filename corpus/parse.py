"""Markdown list -> Paper records and the section tree, from markdown-it-py's tokens.

Pure: text in, records out. The first H1 before any other heading is the list's title; every
other heading is a section, except parts that hold no papers (contents, news, contributing,
citation, licence: skipped with everything below them) and headings that only group by year
("#### 2021"), whose entries belong to the section above. A bold line on its own
(``**Image Classification**``), or a list item that is only a name with entries nested under
it, is a subsection. Entries are list items (see :mod:`secml_papers.corpus.entry` for the
shapes) or rows of a table with a title column (:mod:`secml_papers.corpus.tables`). Every list
item below a heading is parsed into a paper, skipped as a non-entry, or warned about.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from secml_papers.corpus.entry import Fields, is_label, parse_entry
from secml_papers.corpus.headings import heading_name, is_skipped, year_group, year_suffix
from secml_papers.corpus.ids import assign_ids
from secml_papers.corpus.inline import (
    IMAGE,
    LINK,
    STRONG,
    TEXT,
    Piece,
    pieces,
)
from secml_papers.corpus.records import Paper, PaperList, ParseWarning, Section
from secml_papers.corpus.tables import table_entries

__all__ = ["parse_list"]

_MD = MarkdownIt("commonmark").enable("table")
_LISTS = ("bullet_list_open", "ordered_list_open")


@dataclass
class _Item:
    line: int
    inlines: list[Token] = field(default_factory=list)
    children: list[_Item] = field(default_factory=list)


@dataclass(frozen=True)
class _Entry:
    fields: Fields
    section: tuple[str, ...]
    line: int


@dataclass
class _State:
    """Where the walk is: the heading stack, a bold pseudo-heading, a year group, a skip."""

    title: str | None = None
    stack: list[tuple[int, str]] = field(default_factory=list)
    pseudo: str | None = None
    year_level: int = 0
    year: int | None = None
    skip_level: int = 0
    headings: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    entries: list[_Entry] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    @property
    def section(self) -> tuple[str, ...]:
        path = tuple(name for _, name in self.stack)
        return (*path, self.pseudo) if self.pseudo else path

    def heading(self, level: int, name: str, line: int) -> None:
        self.pseudo = None
        if not name:
            return  # "## " with nothing after it names no section
        if self.skip_level and level > self.skip_level:
            return
        self.skip_level = 0
        if self.year_level and level <= self.year_level:
            self.year_level, self.year = 0, None
        if level == 1 and self.title is None and not self.headings and not self.stack:
            self.title = name
            return
        if is_skipped(name):
            self.skip_level = level
            return
        grouped, year = year_group(name)
        if grouped and self.stack:
            self.year_level, self.year = level, year
            return
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, name))
        self.headings.append((self.section, line))


def parse_list(text: str) -> PaperList:
    """Parse an awesome list of papers into papers, sections and warnings.

    >>> lst = parse_list('# L\\n\\n## Backdoors\\n\\n'
    ...     '- Wang et al. [**"Neural Cleanse"**](https://x.org/nc.pdf) @ **S&P 2019**.\\n')
    >>> p = lst.papers[0]
    >>> (p.title, p.authors, p.venue, p.year, p.url, p.section, p.line)
    ('Neural Cleanse', 'Wang et al.', 'S&P', 2019, 'https://x.org/nc.pdf', ('Backdoors',), 5)
    """
    tokens = _MD.parse(text)
    state = _State()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            state.heading(int(tok.tag[1]), heading_name(tokens[i + 1].children or []), _line(tok))
            i += 3
        elif state.skip_level:
            if tok.type in ("list_item_open", "tr_open"):
                state.skipped.append(_line(tok))
            i += 1
        elif tok.type in _LISTS:
            items, i = _item_tree(tokens, i)
            for item in items:
                _visit(state, item, state.section)
        elif tok.type == "table_open":
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
            table = tokens[i : end + 1]
            if state.stack:
                fields, messages, skipped = table_entries(table)
                state.entries.extend(
                    _Entry(_with_group_year(f, state), state.section, line) for line, f in fields
                )
                state.warnings.extend(ParseWarning(line, m) for line, m in messages)
                state.skipped.extend(skipped)
            else:
                state.skipped.extend(_line(t) for t in table if t.type == "tr_open")
            i = end + 1
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            _paragraph(state, tok)
            i += 1
        else:
            i += 1
    _fold_year_siblings(state)
    return PaperList(
        title=state.title,
        papers=_papers(state.entries),
        sections=_sections(state.headings, state.entries),
        warnings=tuple(sorted(state.warnings + list(_incomplete(state.entries)), key=_by_line)),
        skipped=tuple(sorted(set(state.skipped))),
    )


def _fold_year_siblings(state: _State) -> None:
    """Sibling headings that differ only by a final year ("Attack Papers 2023", "Attack Papers
    2022") are one section split by year: fold them into "Attack Papers"."""
    groups: dict[tuple[tuple[str, ...], str], set[str]] = {}
    for path, _ in state.headings:
        found = year_suffix(path[-1])
        if found is not None:
            groups.setdefault((path[:-1], found[0]), set()).add(path[-1])
    folded = {
        (parent, name): prefix
        for (parent, prefix), names in groups.items()
        if len(names) >= 2
        for name in names
    }
    if not folded:
        return

    def fold(path: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for name in path:
            out.append(folded.get((tuple(out), name), name))
        return tuple(out)

    seen: set[tuple[str, ...]] = set()
    headings = []
    for path, line in state.headings:
        new = fold(path)
        if new != path and new in seen:
            continue  # the second year of a folded section adds no heading
        seen.add(new)
        headings.append((new, line))
    state.headings = headings
    state.entries = [replace(e, section=fold(e.section)) for e in state.entries]


def _by_line(w: ParseWarning) -> int:
    return w.line


def _paragraph(state: _State, tok: Token) -> None:
    """A paragraph outside any list: a bold pseudo-heading, or an entry that lost its bullet."""
    if not state.stack:
        return
    row = [p for p in pieces(tok.children or []) if p.text.strip(" :") and p.kind != IMAGE]
    if len(row) == 1 and row[0].kind == STRONG and len(row[0].text) <= 80:
        name = row[0].text.strip().rstrip(":").strip()
        state.pseudo = name
        state.headings.append((state.section, _line(tok)))
        return
    links = [p for p in row if p.kind == LINK and not (p.href or "").startswith("#")]
    if any(p.bold for p in links) or (any(p.kind == STRONG for p in row) and links):
        state.warnings.append(
            ParseWarning(_line(tok), "this looks like an entry but is not a list item")
        )


def _item_tree(tokens: Sequence[Token], start: int) -> tuple[list[_Item], int]:
    """The items of the list opening at ``tokens[start]``, nested, and the index after it."""
    roots: list[_Item] = []
    stack: list[_Item] = []
    depth = 0
    for j in range(start, len(tokens)):
        tok = tokens[j]
        if tok.type in _LISTS:
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                return roots, j + 1
        elif tok.type == "list_item_open":
            item = _Item(_line(tok))
            (stack[-1].children if stack else roots).append(item)
            stack.append(item)
        elif tok.type == "list_item_close":
            stack.pop()
        elif tok.type == "inline" and stack:
            stack[-1].inlines.append(tok)
    return roots, len(tokens)


def _has_title_link(row: Sequence[Piece]) -> bool:
    return any(
        p.kind == LINK and not is_label(p) and not (p.href or "").startswith("#") for p in row
    )


def _visit(state: _State, item: _Item, section: tuple[str, ...]) -> None:
    main = pieces(item.inlines[0].children or []) if item.inlines else []
    details = [pieces(t.children or []) for t in item.inlines[1:]]
    nested: list[_Item] = []
    for child in item.children:
        row = pieces(child.inlines[0].children or []) if child.inlines else []
        if _has_title_link(row) or child.children:
            nested.append(child)
        else:
            details.extend([row, *(pieces(t.children or []) for t in child.inlines[1:])])
            state.skipped.append(child.line)  # a detail line of this entry
    if nested and _is_group(main):
        name = "".join(p.text for p in main).strip().rstrip(":").strip()
        section = (*section, name)
        state.headings.append((section, item.line))
        state.skipped.append(item.line)
        for child in nested:
            _visit(state, child, section)
        return
    result = parse_entry(main, details)
    if isinstance(result, Fields):
        state.entries.append(_Entry(_with_group_year(result, state), section, item.line))
    elif result is not None and (section or _has_title_link(main)):
        state.warnings.append(ParseWarning(item.line, result))
    else:  # a contents link, an empty item, or prose above the first heading
        state.skipped.append(item.line)
    for child in nested:
        _visit(state, child, section)


def _with_group_year(fields: Fields, state: _State) -> Fields:
    """An entry under a year heading ("#### 2021") without a year of its own takes that one."""
    if fields.year is None and state.year is not None:
        return replace(fields, year=state.year)
    return fields


def _is_group(row: Sequence[Piece]) -> bool:
    """An item that only names the entries nested under it: short text, no link, no year."""
    row = [p for p in row if p.kind != IMAGE]
    text = "".join(p.text for p in row).strip()
    return (
        bool(text)
        and len(text) <= 80
        and all(p.kind in (TEXT, STRONG) or p.kind == "em" for p in row)
        and not any(ch.isdigit() for ch in text[-4:])
    )


def _papers(entries: Sequence[_Entry]) -> tuple[Paper, ...]:
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
        f = e.fields
        if f.venue is None and f.year is None:
            yield ParseWarning(e.line, f"no venue and year after the title of {f.title!r}")
        elif f.year is None:
            yield ParseWarning(e.line, f"no year after the venue of {f.title!r}")


def _line(tok: Token) -> int:
    return tok.map[0] + 1 if tok.map else 0
