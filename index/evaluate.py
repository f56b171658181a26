"""Leave-one-out measurements of categorisation on the list itself.

Each entry is hidden from the evidence in turn and categorised by the rest; its own section
is the truth. The figures choose the abstain threshold (the same one check-pr uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from secml_papers.index.categorize import Categorizer

AGREE_RATIO = 0.5


@dataclass(frozen=True)
class Outcome:
    confidence: float
    correct: bool
    in_top3: bool
    truth_confidence: float


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    answered: float  # share of entries not abstained on
    precision: float | None  # top-1 accuracy among those
    wrong_moves: int  # confident but wrong top suggestions
    false_flags: int  # entries in their right section that check-pr would ask to move

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "answered": round(self.answered, 3),
            "precision": None if self.precision is None else round(self.precision, 3),
            "wrong_moves": self.wrong_moves,
            "false_flags": self.false_flags,
        }


def leave_one_out(categorizer: Categorizer) -> list[Outcome]:
    """One outcome per entry that sits in a section that can hold entries."""
    outcomes = []
    for i, label in enumerate(categorizer.labels):
        if label < 0:
            continue
        result = categorizer.categorize_vector(categorizer.vectors[i], exclude=[i])
        truth = categorizer.candidates[label]
        top3 = [s.section for s in result.suggestions[:3]]
        truth_confidence = next(s.confidence for s in result.suggestions if s.section == truth)
        outcomes.append(
            Outcome(
                result.suggestions[0].confidence, top3[0] == truth, truth in top3, truth_confidence
            )
        )
    return outcomes


def agrees(placed_confidence: float, top_confidence: float) -> bool:
    """A placement a maintainer would not object to: the top section, or one nearly as likely."""
    return placed_confidence >= AGREE_RATIO * top_confidence


def threshold_table(
    outcomes: list[Outcome], thresholds: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
) -> list[ThresholdRow]:
    rows = []
    for t in thresholds:
        kept = [o for o in outcomes if o.confidence >= t]
        precision = float(np.mean([o.correct for o in kept])) if kept else None
        rows.append(
            ThresholdRow(
                threshold=t,
                answered=len(kept) / len(outcomes) if outcomes else 0.0,
                precision=precision,
                wrong_moves=sum(not o.correct for o in kept),
                false_flags=sum(not agrees(o.truth_confidence, o.confidence) for o in kept),
            )
        )
    return rows
