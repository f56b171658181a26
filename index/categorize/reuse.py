"""Reusing a fitted categorizer for another version of the list: check-pr's BASE is usually
the list being served, whose categorizer is fitted already.

Same entries (id, title, section, vector) and the same candidate sections: the very same
categorizer, so the answers are those of a fresh fit. Same entries, other sections (HEAD adds
or renames one): a new categorizer, whose combiner must be fitted again (every feature row
has another section), but which shares what does not depend on the sections: the probes'
ridge inverse (when the same entries are labelled) and the entries' BM25 index.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from secml_papers.corpus.records import Paper, Section
from secml_papers.index.categorize.categorizer import Categorizer, entry_text
from secml_papers.index.categorize.training import SAMPLE_ABOVE

KEEP = 4  # categorizers kept per fitted one for other candidate sections
_lock = threading.Lock()


def same_entries(
    papers: Sequence[Paper], vectors: np.ndarray, own: Sequence[Paper], own_vectors: np.ndarray
) -> bool:
    """Whether two versions hold the same entries (id, title, section) with the same vectors."""
    return (
        len(papers) == len(own)
        and all(
            (p.id, p.title, p.tags, p.section) == (q.id, q.title, q.tags, q.section)
            for p, q in zip(papers, own, strict=True)
        )
        and np.array_equal(np.asarray(vectors), np.asarray(own_vectors))
    )


def has_evidence(categorizer: Categorizer, papers: Sequence[Paper], vectors: np.ndarray) -> bool:
    """Whether ``categorizer`` learns from exactly these entries and vectors, with the texts a
    fresh ``Categorizer(papers, vectors, ...)`` would read (titles and tags)."""
    own = categorizer.papers
    return categorizer.texts == tuple(map(entry_text, own)) and same_entries(
        papers, vectors, own, categorizer.vectors
    )


def for_sections(categorizer: Categorizer, sections: Sequence[Section]) -> Categorizer:
    """The categorizer of the same entries with ``sections`` as the candidates.

    The last few are kept on ``categorizer``, so re-runs of a check on a pull request that
    adds a section fit once.
    """
    key = tuple(s.path for s in sections if s.can_hold_entries)
    if key == categorizer.candidates:
        return categorizer
    with _lock:
        found = categorizer.derived.get(key)
    if found is not None:
        return found
    c = categorizer
    other = Categorizer(
        c.papers, c.vectors, sections, c.embedder, c.abstain_below, c.texts, c.sample_above
    )
    if np.array_equal(other.labels >= 0, c.labels >= 0) and c.probes:
        other.design = c.probes[0][0].design
    other.__dict__["entries_lexical"] = c.entries_lexical  # a cached_property, filled in
    with _lock:
        while len(c.derived) >= KEEP:
            c.derived.pop(next(iter(c.derived)))
        c.derived[key] = other
    return other


BORROW_ABOVE = SAMPLE_ABOVE  # below it a fit takes seconds: every BASE gets its own, exactly
BORROW_SHARE = 0.01  # entries added, removed or changed, as a share of the fitted list


def may_borrow(fitted: int, other: int) -> bool:
    """Whether a list of ``other`` entries may borrow the fit of one of ``fitted`` entries, by
    their lengths alone: the fitted list is long and the two differ by at most BORROW_SHARE
    (``borrowed`` then compares the entries themselves)."""
    return fitted > BORROW_ABOVE and abs(other - fitted) <= BORROW_SHARE * fitted


def borrowed(
    fitted: Categorizer,
    papers: Sequence[Paper],
    vectors: np.ndarray,
    sections: Sequence[Section],
) -> Categorizer | None:
    """A categorizer of a nearby version of a long list that borrows ``fitted``'s fit.

    The combiner's weights are per feature, shared by every section, and with the
    temperatures and the off-topic level they describe how the list's evidence behaves, not
    which entries it holds; on a list of thousands a few entries more or less do not move
    them, while fitting again takes minutes (the soak of bench/performance/soak.py: check-pr
    against a 10,000-entry BASE edited since the last reload ran past the server's 30 s
    budget). So a BASE that differs from the fitted list by at most BORROW_SHARE of its
    entries gets its own evidence (entries, headings, probes, BM25) with the borrowed fit.
    None when the list is short (a fit is cheap and exact) or the versions differ more.
    """
    if not may_borrow(len(fitted.papers), len(papers)) or fitted.held_out is None:
        return None
    before = {(p.id, p.title, p.tags, p.section) for p in fitted.papers}
    after = {(p.id, p.title, p.tags, p.section) for p in papers}
    if len(before ^ after) > BORROW_SHARE * len(fitted.papers):
        return None
    other = Categorizer(
        papers, vectors, sections, fitted.embedder, fitted.abstain_below, None, fitted.sample_above
    )
    other.__dict__["_fitted"] = (fitted.model, None)  # cached properties, filled in
    other.__dict__["_with_stance"] = (None, *fitted._with_stance[1:])
    other.__dict__["off_topic_below"] = fitted.off_topic_below
    return other
