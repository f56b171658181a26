"""Problems a maintainer would point out in a list: malformed entries, style, placement.

Pure: the Markdown text and what the parser understood of it in, problems with their 1-based
line out. Entries are read from markdown-it-py's tokens, as the parser reads them; the
expected form of an entry is the list's own::

    - Wang et al. [**"Neural Cleanse: ..."**](https://ieeexplore.ieee.org/...) @ **S&P 2019**.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from secml_papers.corpus.inline import first_bold_link, plain_text
from secml_papers.corpus.records import Paper, PaperList

FORMAT = "format"
STYLE = "style"
PLACEMENT = "placement"
STRUCTURE = "structure"
KINDS = (STRUCTURE, FORMAT, PLACEMENT, STYLE)
ENTRY_FORM = '- Authors [**"Title"**](url) @ **Venue Year**.'

_MD = MarkdownIt("commonmark")
_QUOTES = "\"'“”‘’«»"
_ENDINGS = ".;,:!?"


@dataclass(frozen=True)
class Problem:
    """One problem at a 1-based line of the checked text; ``kind`` is one of :data:`KINDS`."""

    line: int
    message: str
    kind: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Item:
    line: int
    kids: tuple[Token, ...]
    source: str
    under_heading: bool


def lint_list(
    text: str,
    parsed: PaperList,
    base: PaperList | None = None,
    *,
    today_year: int,
    only_lines: Collection[int] | None = None,
) -> tuple[Problem, ...]:
    """Every problem of ``text`` (parsed as ``parsed``), sorted by line.

    With ``base`` (the list before a pull request) headings removed while they held entries
    are reported too. ``only_lines`` (see ``diff.changed_lines``) keeps the problems on the
    lines a pull request wrote; removed headings are kept regardless, as a removal leaves no
    line behind to point at.
    """
    papers = {p.line: p for p in parsed.papers}
    items = list(_items(text))
    problems: list[Problem] = []
    if _written_in_entry_form([i for i in items if i.line in papers]):
        for item in items:
            paper = papers.get(item.line)
            if paper is not None or (item.under_heading and _entry_like(item.kids)):
                problems.extend(_format(item, paper, today_year))
    else:  # another list's shape: only what every shape needs
        for paper in parsed.papers:
            problems.extend(_fields(paper, today_year))
    problems.extend(_endings([i for i in items if i.line in papers]))
    problems.extend(_placement(parsed))
    problems.extend(_duplicate_headings(parsed))
    flagged = {p.line for p in problems if p.kind == FORMAT}
    problems.extend(
        Problem(w.line, w.message, FORMAT) for w in parsed.warnings if w.line not in flagged
    )
    if only_lines is not None:
        problems = [p for p in problems if p.line in only_lines]
    if base is not None:
        problems.extend(_removed_headings(parsed, base))
    rank = {kind: i for i, kind in enumerate(KINDS)}
    return tuple(sorted(set(problems), key=lambda p: (p.line, rank[p.kind], p.message)))


def _items(text: str) -> Iterator[_Item]:
    """The first paragraph of every list item, except table-of-contents links."""
    tokens = _MD.parse(text)
    seen_heading = False
    title_taken = False
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            if tok.tag == "h1" and not title_taken and not seen_heading:
                title_taken = True
            else:
                seen_heading = True
        elif (
            tok.type == "inline"
            and i >= 2
            and tokens[i - 1].type == "paragraph_open"
            and tokens[i - 2].type == "list_item_open"
            and tok.map
        ):
            kids = tuple(tok.children or ())
            hrefs = [str(c.attrs.get("href", "")) for c in kids if c.type == "link_open"]
            if hrefs and all(h.startswith("#") for h in hrefs):
                continue
            yield _Item(tok.map[0] + 1, kids, tok.content, seen_heading)


def _written_in_entry_form(entries: Sequence[_Item]) -> bool:
    """Whether most entries have a bold, linked title as in :data:`ENTRY_FORM`; lists written
    in other shapes (see ``corpus/entry.py``) are not held to this one's details."""
    bold = sum(first_bold_link(item.kids) is not None for item in entries)
    return bold * 2 > len(entries)


def _fields(paper: Paper, today_year: int) -> Iterator[Problem]:
    """Problems of an entry in any list shape: no link, no venue or year, a future year."""
    if not paper.url:
        yield Problem(paper.line, "the entry has no link to the paper", FORMAT)
    if paper.year is None:
        yield Problem(paper.line, "the entry has no year", FORMAT)
    elif paper.year > today_year:
        yield Problem(paper.line, f"the year {paper.year} is in the future", FORMAT)


def _entry_like(kids: Sequence[Token]) -> bool:
    return any(c.type in ("link_open", "strong_open") for c in kids)


def _format(item: _Item, paper: Paper | None, today_year: int) -> Iterator[Problem]:
    """Departures from :data:`ENTRY_FORM` in one item, most basic first."""
    kids, line = item.kids, item.line
    links = [j for j, c in enumerate(kids) if c.type == "link_open"]
    if not links:
        yield Problem(line, f"the title has no link; entries read {ENTRY_FORM}", FORMAT)
        return
    start = first_bold_link(kids)
    if start is None:
        message = f"the title is not bold inside its link; entries read {ENTRY_FORM}"
        yield Problem(line, message, FORMAT)
        return
    end = next(j for j in range(start, len(kids)) if kids[j].type == "link_close")
    title = plain_text(kids[start + 1 : end]).strip()
    if not (title[:1] in _QUOTES and title[-1:] in _QUOTES and len(title) > 1):
        yield Problem(line, f'the title {title!r} is not in quotes: [**"Title"**](url)', FORMAT)
    if not str(kids[start].attrs.get("href") or "").strip():
        yield Problem(line, "the link is empty: () needs the paper's URL", FORMAT)
    if paper is None:
        return
    if paper.venue is None and paper.year is None:
        yield Problem(line, "no venue and year after the title: @ **Venue Year**", FORMAT)
    elif paper.venue is None:
        yield Problem(line, f"no venue before the year {paper.year}: @ **Venue Year**", FORMAT)
    elif paper.year is None:
        yield Problem(line, f"no year after the venue {paper.venue!r}: @ **Venue Year**", FORMAT)
    elif not any(c.type == "strong_open" for c in kids[end + 1 :]):
        yield Problem(line, "the venue and year are not bold: @ **Venue Year**", FORMAT)
    if paper.year is not None and paper.year > today_year:
        yield Problem(line, f"the year {paper.year} is in the future", FORMAT)


def _endings(entries: Sequence[_Item]) -> Iterator[Problem]:
    """Entries ending unlike most of the list's entries (most end with ".")."""
    ends = [_ending(item.source) for item in entries]
    if not ends:
        return
    usual, count = Counter(ends).most_common(1)[0]
    if count * 2 <= len(ends):
        return  # no majority, no rule
    for item, end in zip(entries, ends, strict=True):
        if end == usual:
            continue
        if usual and end:
            message = f"ends with {end!r}, most entries end with {usual!r}"
        elif usual:
            message = f"ends without {usual!r}, unlike {count} of {len(ends)} entries"
        else:
            message = f"ends with {end!r}, most entries end without punctuation"
        yield Problem(item.line, message, STYLE)


def _ending(source: str) -> str:
    last = source.rstrip()[-1:]
    return last if last and last in _ENDINGS else ""


def _placement(parsed: PaperList) -> Iterator[Problem]:
    """Entries outside any section, or directly under a heading that has subsections."""
    parents = {s.path for s in parsed.sections if s.has_subsections}
    for paper in parsed.papers:
        if not paper.section:
            yield Problem(paper.line, "the entry is not under any section heading", PLACEMENT)
        elif paper.section in parents:
            children = sorted(
                {
                    s.path[len(paper.section)]
                    for s in parsed.sections
                    if len(s.path) > len(paper.section)
                    and s.path[: len(paper.section)] == paper.section
                }
            )
            yield Problem(
                paper.line,
                f"the entry is directly under {' > '.join(paper.section)!r}, which has "
                f"subsections ({', '.join(children)}); put it in one of them",
                PLACEMENT,
            )


def _duplicate_headings(parsed: PaperList) -> Iterator[Problem]:
    first: dict[tuple[str, ...], int] = {}
    for section in parsed.sections:
        if section.path in first:
            yield Problem(
                section.line,
                f"the heading {' > '.join(section.path)!r} appears twice "
                f"(first at line {first[section.path]})",
                STRUCTURE,
            )
        else:
            first[section.path] = section.line


def _removed_headings(head: PaperList, base: PaperList) -> Iterator[Problem]:
    """Headings of BASE gone from HEAD while entries sat below them; the topmost only.

    The line points at the first of those entries still in HEAD (now under another heading),
    else at the nearest surviving parent heading, else at line 1.
    """
    head_paths = {s.path: s.line for s in head.sections}
    head_ids = head.by_id()
    for section in base.sections:
        path = section.path
        if path in head_paths or (path[:-1] and path[:-1] not in head_paths):
            continue
        held = [p for p in base.papers if p.section[: len(path)] == path]
        if not held:
            continue
        still = sorted(head_ids[p.id].line for p in held if p.id in head_ids)
        line = still[0] if still else head_paths.get(path[:-1], 1)
        noun = "entry" if len(held) == 1 else "entries"
        yield Problem(
            line,
            f"the heading {' > '.join(path)!r} (line {section.line} in BASE) was removed or "
            f"renamed while it held {len(held)} {noun}",
            STRUCTURE,
        )
