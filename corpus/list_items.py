"""A Markdown list's items -> entries, subsections and warnings, from markdown-it-py's tokens.

Pure. Each item is parsed into a paper (see :mod:`secml_papers.corpus.entry` for the shapes),
skipped as a non-entry, or warned about. A nested item without a title link is a detail line
of the entry above it; an item that is only a name with entries nested under it
("- Image Classification" over "- Wang et al. [**"Neural Cleanse"**](https://x.org/nc.pdf)")
is a subsection.

>>> from markdown_it import MarkdownIt
>>> tokens = MarkdownIt("commonmark").parse("- Image Classification\\n  - [**A**](https://x.org)\\n")
>>> items, end = item_tree(tokens, 0)
>>> (items[0].line, [c.line for c in items[0].children], end == len(tokens))
(1, [2], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it.token import Token

from secml_papers.corpus.entry import Fields, is_label, parse_entry
from secml_papers.corpus.inline import IMAGE, LINK, STRONG, TEXT, Piece, pieces
from secml_papers.corpus.outline import Entry, WalkState, with_group_year
from secml_papers.corpus.records import ParseWarning

LISTS = ("bullet_list_open", "ordered_list_open")


@dataclass
class Item:
    line: int
    inlines: list[Token] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)


def token_line(tok: Token) -> int:
    """The 1-based source line a token starts on (0 when markdown-it gives no map)."""
    return tok.map[0] + 1 if tok.map else 0


def item_tree(tokens: Sequence[Token], start: int) -> tuple[list[Item], int]:
    """The items of the list opening at ``tokens[start]``, nested, and the index after it."""
    roots: list[Item] = []
    stack: list[Item] = []
    depth = 0
    for j in range(start, len(tokens)):
        tok = tokens[j]
        if tok.type in LISTS:
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                return roots, j + 1
        elif tok.type == "list_item_open":
            item = Item(token_line(tok))
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


def visit_item(state: WalkState, item: Item, section: tuple[str, ...]) -> None:
    """Record ``item`` and what is nested under it as entries, subsections, skips or warnings."""
    main = pieces(item.inlines[0].children or []) if item.inlines else []
    details = [pieces(t.children or []) for t in item.inlines[1:]]
    nested: list[Item] = []
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
            visit_item(state, child, section)
        return
    result = parse_entry(main, details)
    if isinstance(result, Fields):
        state.entries.append(Entry(with_group_year(result, state), section, item.line))
    elif result is not None and (section or _has_title_link(main)):
        state.warnings.append(ParseWarning(item.line, result))
    else:  # a contents link, an empty item, or prose above the first heading
        state.skipped.append(item.line)
    for child in nested:
        visit_item(state, child, section)


def _is_group(row: Sequence[Piece]) -> bool:
    """An item that only names the entries nested under it: short text, no link, no year."""
    row = [p for p in row if p.kind != IMAGE]
    text = "".join(p.text for p in row).strip().rstrip(":").strip()  # "- :" names nothing
    return (
        bool(text)
        and len(text) <= 80
        and all(p.kind in (TEXT, STRONG) or p.kind == "em" for p in row)
        and not any(ch.isdigit() for ch in text[-4:])
    )
