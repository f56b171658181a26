"""What a pull request changed in the list: papers added, removed, moved and edited.

Pure: two parsed lists in, a :class:`ListDiff` out. Entries are paired across the two
versions by what identifies the paper, never by position, so reordering a section reports
nothing and fixing a typo in a title reports an edit, not a removal plus an addition.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from secml_papers.corpus.duplicates import (
    Identifiers,
    near_identical_titles,
    related_titles,
    title_ratio,
)
from secml_papers.corpus.records import Paper, PaperList

FIELDS = ("title", "authors", "venue", "year", "url", "note", "tags")


@dataclass(frozen=True)
class Pair:
    """One entry in BASE and in HEAD.

    ``fields`` are the changed ones among :data:`FIELDS`; ``matched_by`` says how the two
    were recognised as one entry: ``"id"`` (same normalised title), ``"arXiv id"``, ``"DOI"``,
    ``"URL"`` (with a related title) or ``"title"`` (near-identical title).
    """

    base: Paper
    head: Paper
    fields: tuple[str, ...]
    matched_by: str

    @property
    def moved(self) -> bool:
        return self.base.section != self.head.section

    def to_dict(self) -> dict:
        return {
            "base": self.base.to_dict(),
            "head": self.head.to_dict(),
            "fields": list(self.fields),
            "matched_by": self.matched_by,
        }


@dataclass(frozen=True)
class ListDiff:
    """Changes from BASE to HEAD; a pair both moved and edited is in both tuples.

    ``pairs`` holds every pairing, unchanged ones too, for callers that need the HEAD
    version of a kept entry; it is not part of the report.
    """

    added: tuple[Paper, ...]
    removed: tuple[Paper, ...]
    moved: tuple[Pair, ...]
    edited: tuple[Pair, ...]
    pairs: tuple[Pair, ...] = ()

    def to_dict(self) -> dict:
        return {
            "added": [p.to_dict() for p in self.added],
            "removed": [p.to_dict() for p in self.removed],
            "moved": [p.to_dict() for p in self.moved],
            "edited": [p.to_dict() for p in self.edited],
        }


def diff_lists(base: PaperList, head: PaperList) -> ListDiff:
    """Pair BASE and HEAD entries, then report what is new, gone, moved or edited.

    First by stable id (one normalised title, one id), then, among the entries left, by a
    shared arXiv id, DOI or URL when the titles are related, or by a near-identical title when
    no arXiv id or DOI contradicts it. A link shared under a clearly different title pairs
    nothing: that is a new paper whose link was copied from another entry.
    """
    head_by_id = head.by_id()
    pairs: list[Pair] = []
    left_base: list[Paper] = []
    for paper in base.papers:
        other = head_by_id.pop(paper.id, None)
        if other is None:
            left_base.append(paper)
        else:
            pairs.append(_pair(paper, other, "id"))
    left_head = [p for p in head.papers if p.id in head_by_id]

    for b, h, by in _match_rest(left_base, left_head):
        pairs.append(_pair(b, h, by))
        left_base.remove(b)
        left_head.remove(h)

    pairs.sort(key=lambda pair: pair.head.line)
    return ListDiff(
        added=tuple(left_head),
        removed=tuple(left_base),
        moved=tuple(p for p in pairs if p.moved),
        edited=tuple(p for p in pairs if p.fields),
        pairs=tuple(pairs),
    )


def changed_lines(base_text: str, head_text: str) -> frozenset[int]:
    """1-based HEAD line numbers that a pull request added or rewrote.

    Meant for ``lint_list(..., only_lines=...)``, so a check reports what the contributor
    wrote and not the list's older problems.
    """
    matcher = difflib.SequenceMatcher(
        None, base_text.splitlines(), head_text.splitlines(), autojunk=False
    )
    lines: set[int] = set()
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            lines.update(range(j1 + 1, j2 + 1))
    return frozenset(lines)


def _pair(base: Paper, head: Paper, matched_by: str) -> Pair:
    fields = tuple(f for f in FIELDS if getattr(base, f) != getattr(head, f))
    return Pair(base, head, fields, matched_by)


def _match_rest(base: list[Paper], head: list[Paper]) -> list[tuple[Paper, Paper, str]]:
    """Greedy best-first pairing of entries whose titles changed.

    Candidates are ranked by: a shared identifier, title similarity, how many other fields
    agree, same section, closeness in the file. This keeps the original, not a pasted copy,
    paired with its BASE entry when HEAD holds both.
    """
    candidates = []
    for i, b in enumerate(base):
        ids_b = Identifiers.of(b)
        for j, h in enumerate(head):
            ids_h = Identifiers.of(h)
            shared = ids_b.shared(ids_h)
            if shared and related_titles(b.title, h.title):
                by = shared[0]
            elif near_identical_titles(b.title, h.title) and not ids_b.conflicts(ids_h):
                by = "title"
            else:
                continue
            agree = sum(getattr(b, f) == getattr(h, f) for f in FIELDS[1:])
            score = (
                by != "title",
                title_ratio(b.title, h.title),
                agree,
                b.section == h.section,
                -abs(b.line - h.line),
            )
            candidates.append((score, i, j, by))
    candidates.sort(key=lambda c: c[0], reverse=True)
    used_b: set[int] = set()
    used_h: set[int] = set()
    matches = []
    for _score, i, j, by in candidates:
        if i in used_b or j in used_h:
            continue
        used_b.add(i)
        used_h.add(j)
        matches.append((base[i], head[j], by))
    return matches
