"""The inline content of one Markdown paragraph as a flat row of pieces.

markdown-it-py gives nested open/close tokens; entry parsing wants to ask "which link has a
bold text", "what plain text follows the title", "is there a code span". A piece is a run of
text in one context: a link (with its href, and whether it is bold), bold text, italic text,
a code span, plain text, a line break, or an image (its alt text). Inline HTML tags are
dropped (``<br>``), and so are images inside links: a link whose only content is an image is
kept with an empty text, a badge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.token import Token

TEXT = "text"
LINK = "link"
STRONG = "strong"
EM = "em"
CODE = "code"
BREAK = "break"
IMAGE = "image"  # an image outside a link; its text is the alt text (badges name venues)


@dataclass(frozen=True)
class Piece:
    kind: str
    text: str
    href: str | None = None
    bold: bool = False  # a link with bold text inside it or around it


def pieces(children: Sequence[Token]) -> list[Piece]:
    """The pieces of an inline token's children, in order.

    >>> from markdown_it import MarkdownIt
    >>> kids = MarkdownIt().parseInline('A [**"T"**](u) @ **V 2019**`n`')[0].children
    >>> [(p.kind, p.text) for p in pieces(kids)]
    [('text', 'A '), ('link', '"T"'), ('text', ' @ '), ('strong', 'V 2019'), ('code', 'n')]
    """
    out: list[Piece] = []
    link: dict | None = None
    strong = em = 0
    for tok in children:
        kind = tok.type
        if kind == "link_open":
            link = {"href": str(tok.attrs.get("href") or ""), "text": [], "bold": strong > 0}
        elif kind == "link_close" and link is not None:
            out.append(Piece(LINK, "".join(link["text"]), link["href"], link["bold"]))
            link = None
        elif kind == "strong_open":
            strong += 1
            if link is not None:
                link["bold"] = True
        elif kind == "strong_close":
            strong = max(0, strong - 1)
        elif kind == "em_open":
            em += 1
        elif kind == "em_close":
            em = max(0, em - 1)
        elif kind == "image" and link is None:  # the alt text as shown: entities decoded
            alt = "".join(
                c.content for c in tok.children or () if c.type in ("text", "code_inline")
            )
            out.append(Piece(IMAGE, alt or tok.content or ""))
        elif kind in ("softbreak", "hardbreak"):
            if link is not None:
                link["text"].append(" ")
            else:
                out.append(Piece(BREAK, "\n"))
        elif kind in ("text", "code_inline"):  # inline HTML tags are dropped, their text kept
            text = tok.content
            if not text:
                continue
            if link is not None:
                link["text"].append(text)
            elif kind == "code_inline":
                out.append(Piece(CODE, text))
            else:
                _append(out, STRONG if strong else EM if em else TEXT, text)
    if link is not None:  # unbalanced tokens cannot happen with markdown-it, but be safe
        out.append(Piece(LINK, "".join(link["text"]), link["href"], link["bold"]))
    return out


def _append(out: list[Piece], kind: str, text: str) -> None:
    if out and out[-1].kind == kind and kind != LINK:
        out[-1] = Piece(kind, out[-1].text + text)
    else:
        out.append(Piece(kind, text))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def plain_text(children: Sequence[Token]) -> str:
    """The visible text of inline tokens, images' alt text included, whitespace squashed."""
    parts = []
    for c in children:
        if c.type in ("text", "code_inline"):
            parts.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif c.type == "image":
            parts.append(plain_text(c.children or []))
    return re.sub(r"\s+", " ", "".join(parts))


def first_bold_link(kids: Sequence[Token]) -> int | None:
    """The index of the first ``link_open`` with bold text inside its link, in one pass."""
    opened: int | None = None
    for j, c in enumerate(kids):
        if c.type == "link_open":
            opened = j
        elif c.type == "link_close":
            opened = None
        elif c.type == "strong_open" and opened is not None:
            return opened
    return None
