"""How right categorisation is, measured on the list itself.

Leave-one-out: each entry is hidden from the evidence in turn and placed by the rest; its
own section is the truth. The learned combiner is scored *out of fold* (refitted without the
entry's fold, calibrated on the other folds' held-out logits), so the figures are those of a
model that never saw the entry, not a memorised fit. The same figures choose the abstain
threshold that check-pr uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from secml_papers.index.categorize.categorizer import Categorizer

BINS = 10


@dataclass(frozen=True)
class Outcome:
    confidence: float
    correct: bool
    in_top3: bool
    truth_confidence: float
    top_level_correct: bool = False
    top_level_in_top3: bool = False


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


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    confidence: float | None  # mean top-1 confidence in the bin
    accuracy: float | None  # share of those top-1 suggestions that were right

    def to_dict(self) -> dict:
        r = lambda x: None if x is None else round(x, 3)  # noqa: E731
        return {
            "bin": [self.low, self.high],
            "count": self.count,
            "confidence": r(self.confidence),
            "accuracy": r(self.accuracy),
        }


@dataclass(frozen=True)
class CategorisationScores:
    entries: int
    sections: int
    top1: float
    top3: float
    top_level_top1: float
    top_level_top3: float
    threshold: float
    abstention: float
    precision_answered: float | None
    ece: float
    reliability: tuple[ReliabilityBin, ...]

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "reliability"}
        data = {k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()}
        return {**data, "reliability": [b.to_dict() for b in self.reliability]}


def outcomes(
    confidences: np.ndarray, truth: np.ndarray, candidates: Sequence[tuple[str, ...]]
) -> list[Outcome]:
    """One outcome per row of (queries, sections) confidences against the true sections."""
    tops = sorted({path[0] if path else "" for path in candidates})
    top_of = np.array([tops.index(path[0] if path else "") for path in candidates])
    out = []
    for row, true in zip(confidences, truth, strict=True):
        order = np.argsort(-row, kind="stable")
        per_top = np.bincount(top_of, weights=row, minlength=len(tops))
        top_order = np.argsort(-per_top, kind="stable")
        out.append(
            Outcome(
                confidence=float(row[order[0]]),
                correct=bool(order[0] == true),
                in_top3=bool(true in order[:3]),
                truth_confidence=float(row[true]),
                top_level_correct=bool(top_order[0] == top_of[true]),
                top_level_in_top3=bool(top_of[true] in top_order[:3]),
            )
        )
    return out


def leave_one_out(categorizer: Categorizer) -> list[Outcome]:
    """One outcome per entry that sits in a section that can hold entries."""
    rows = categorizer.labelled
    truth = categorizer.labels[rows]
    held_out = categorizer.held_out
    if held_out is None:  # too few entries to fit: the fixed weights, each entry hidden
        rows_conf = [
            np.array(
                [
                    s.confidence
                    for s in sorted(
                        categorizer.categorize_vector(
                            categorizer.vectors[i], categorizer.texts[i], exclude=[i]
                        ).suggestions,
                        key=lambda s: categorizer.candidates.index(s.section),
                    )
                ]
            )
            for i in rows
        ]
        held_out = np.array(rows_conf).reshape(len(rows), len(categorizer.candidates))
    return outcomes(held_out, truth, categorizer.candidates)


def reliability(found: Sequence[Outcome], bins: int = BINS) -> tuple[ReliabilityBin, ...]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for b in range(bins):
        low, high = float(edges[b]), float(edges[b + 1])
        inside = [
            o for o in found if low <= o.confidence < high or (b == bins - 1 and o.confidence == 1)
        ]
        conf = float(np.mean([o.confidence for o in inside])) if inside else None
        acc = float(np.mean([o.correct for o in inside])) if inside else None
        out.append(ReliabilityBin(round(low, 2), round(high, 2), len(inside), conf, acc))
    return tuple(out)


def expected_calibration_error(found: Sequence[Outcome], bins: int = BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    if not found:
        return 0.0
    return float(
        sum(
            b.count / len(found) * abs(b.accuracy - b.confidence)
            for b in reliability(found, bins)
            if b.count and b.accuracy is not None and b.confidence is not None
        )
    )


def scores(found: Sequence[Outcome], sections: int, threshold: float) -> CategorisationScores:
    answered = [o for o in found if o.confidence >= threshold]
    mean = lambda xs: float(np.mean(xs)) if len(xs) else 0.0  # noqa: E731
    return CategorisationScores(
        entries=len(found),
        sections=sections,
        top1=mean([o.correct for o in found]),
        top3=mean([o.in_top3 for o in found]),
        top_level_top1=mean([o.top_level_correct for o in found]),
        top_level_top3=mean([o.top_level_in_top3 for o in found]),
        threshold=threshold,
        abstention=1 - len(answered) / len(found) if found else 0.0,
        precision_answered=mean([o.correct for o in answered]) if answered else None,
        ece=expected_calibration_error(found),
        reliability=reliability(found),
    )


AGREE_RATIO = 0.5


def agrees(placed_confidence: float, top_confidence: float) -> bool:
    """The rule bench/quality/checkpr_thresholds.py measures false flags with: the top section,
    or one at least half as likely (check-pr itself says "move" by ``verdict.py``)."""
    return placed_confidence >= AGREE_RATIO * top_confidence


def threshold_table(
    found: list[Outcome], thresholds: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
) -> list[ThresholdRow]:
    rows = []
    for t in thresholds:
        kept = [o for o in found if o.confidence >= t]
        precision = float(np.mean([o.correct for o in kept])) if kept else None
        rows.append(
            ThresholdRow(
                threshold=t,
                answered=len(kept) / len(found) if found else 0.0,
                precision=precision,
                wrong_moves=sum(not o.correct for o in kept),
                false_flags=sum(not agrees(o.truth_confidence, o.confidence) for o in kept),
            )
        )
    return rows
