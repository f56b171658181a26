"""Where each paper a pull request adds belongs, and which entries it nearly duplicates.

Evidence comes from BASE's entries only, never from the added papers themselves; the
candidates are HEAD's sections (new and empty ones too). A categorizer already fitted on
BASE's entries (the served list's) is reused rather than fitted again (``reuse.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from secml_papers.corpus.records import Paper, Section
from secml_papers.index.build import paper_text
from secml_papers.index.categorize.categorizer import (
    Categorization,
    Categorizer,
    Suggestion,
    entry_text,
)
from secml_papers.index.categorize.reuse import borrowed, for_sections, has_evidence
from secml_papers.index.categorize.verdict import Verdict, judge
from secml_papers.index.embedding.embedder import Embedder

# Measured by bench/quality/checkpr_thresholds.py on the data set's 347 titles: at 0.90, 1.7% of
# distinct papers have another title this close, and 93% of rewrites of a title (case,
# punctuation, a dropped subtitle) reach it.
NEAR_DUPLICATE = 0.90


@dataclass(frozen=True)
class Placement:
    paper: Paper
    suggestions: tuple[Suggestion, ...]  # the top three
    agrees: bool  # the verdict is not "move"
    abstain: bool
    near: tuple[tuple[Paper, float], ...]  # possible duplicates by embedding
    verdict: Verdict


def place_added(
    base_papers: Sequence[Paper],
    base_vectors: np.ndarray,
    head_sections: Sequence[Section],
    added: Sequence[Paper],
    embedder: Embedder,
    fitted: Categorizer | None = None,
) -> list[Placement]:
    """``fitted``: a categorizer that may have been fitted on BASE's entries already; used
    only when it has (same ids, titles, sections and vectors), else one is fitted here."""
    if not added:
        return []
    if fitted is not None and has_evidence(fitted, base_papers, base_vectors):
        categorizer = for_sections(fitted, head_sections)
    else:
        near = borrowed(fitted, base_papers, base_vectors, head_sections) if fitted else None
        categorizer = near or Categorizer(base_papers, base_vectors, head_sections, embedder)
    # embedded as the entries are (title, then the note written beside it): the same text on
    # both sides of every similarity
    vectors = embedder.embed([paper_text(p) for p in added])
    out = []
    for i, (paper, vector) in enumerate(zip(added, vectors, strict=True)):
        result = categorizer.categorize_vector(vector, entry_text(paper))
        said = judge_placement(result, paper.section)
        near = _near(vector, base_papers, base_vectors) + _near(vector, added[:i], vectors[:i])
        out.append(
            Placement(
                paper, result.suggestions[:3], said.word != "move", result.abstain, near, said
            )
        )
    return out


def judge_placement(result: Categorization, chosen: tuple[str, ...]) -> Verdict:
    """check-pr's verdict on a paper placed in ``chosen``, from its blind categorisation."""
    sections = [s.section for s in result.suggestions]
    confidences = np.array([s.confidence for s in result.suggestions])
    return judge(sections, confidences, chosen, off_topic=result.off_topic)


def _near(
    vector: np.ndarray, papers: Sequence[Paper], vectors: np.ndarray
) -> tuple[tuple[Paper, float], ...]:
    if not len(papers):
        return ()
    sims = vectors @ vector
    order = np.argsort(-sims)
    return tuple((papers[j], float(sims[j])) for j in order if sims[j] >= NEAR_DUPLICATE)
