"""The figures of a replay: agreement with what maintainers accepted, verdicts, and the later
fixes (moves, duplicate removals) the check would have caught at addition.

Agreement and calibration count additions to sections that held entries in BASE, in steps
whose BASE offers a choice (``Addition.eligible``); new and empty sections are counted apart,
since a vote over entries can never name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from secml_papers.index.evaluation.evaluate import Outcome, expected_calibration_error
from secml_papers.index.evaluation.replay import Addition, StepResult


@dataclass(frozen=True)
class MethodFigures:
    top1: float | None
    top3: float | None
    ece: float | None
    ok: float | None  # shares of verdicts on accepted placements
    move: float | None
    unsure: float | None

    def to_dict(self) -> dict:
        return {k: None if v is None else round(v, 4) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ReplayFigures:
    steps: int  # steps replayed
    adding_steps: int  # of them, steps that add entries
    additions: int  # every added entry
    judged: int  # additions to existing sections of eligible steps
    new_or_empty: int
    new_or_empty_top1: float | None
    new_or_empty_top3: float | None
    ours: MethodFigures
    knn: MethodFigures
    misplacements: int  # later single moves of entries whose addition was replayed
    misplacements_caught: int  # check-pr said "move" to the later section at addition
    misplacements_top1: int  # the later section was the blind top suggestion
    misplacements_knn_top1: int
    duplicates: int  # later removals of an entry whose paper stayed, addition replayed
    duplicates_flagged: int
    seconds: float
    seconds_per_step: float | None
    embedded: int = 0  # distinct texts embedded
    by_year: bool = False  # sections are years: no topical placement to judge
    misplacements_top3: int = 0  # the later section was among the three blind suggestions
    misplacements_knn_top3: int = 0
    judged_with_abstract: int = 0  # judged additions embedded with an abstract (--abstracts)

    @classmethod
    def from_dict(cls, data: dict) -> ReplayFigures:
        """The figures back from ``to_dict`` (eval's JSON carries them)."""
        fields = {
            **data,
            "ours": MethodFigures(**data["ours"]),
            "knn": MethodFigures(**data["knn"]),
        }
        return cls(**fields)

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["ours"] = self.ours.to_dict()
        out["knn"] = self.knn.to_dict()
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def _share(values: Sequence[bool]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _method(
    judged: Sequence[Addition], verdicts: Sequence[Addition], knn: bool = False
) -> MethodFigures:
    ranked = [(a.knn if knn else a.blind, a) for a in judged]
    outcomes = [
        Outcome(
            confidence=a.knn_confidence if knn else a.confidence,
            correct=bool(top) and top[0] == a.section,
            in_top3=a.section in top,
            truth_confidence=0.0,
        )
        for top, a in ranked
    ]
    words = [a.knn_verdict if knn else a.verdict for a in verdicts]
    return MethodFigures(
        top1=_share([o.correct for o in outcomes]),
        top3=_share([o.in_top3 for o in outcomes]),
        ece=expected_calibration_error(outcomes) if outcomes else None,
        ok=_share([w == "ok" for w in words]),
        move=_share([w == "move" for w in words]),
        unsure=_share([w == "unsure" for w in words]),
    )


def figures(
    results: Sequence[StepResult], embedded: int = 0, by_year: bool = False
) -> ReplayFigures:
    """The figures of one replay (or of several pooled: pass every list's steps)."""
    additions = [a for r in results for a in r.additions]
    eligible = [a for a in additions if a.eligible]
    judged = [a for a in eligible if a.kind == "existing"]
    fresh = [a for a in eligible if a.kind != "existing"]
    added_at: dict[str, Addition] = {}
    caught = top1 = knn_top1 = top3 = knn_top3 = moves = 0
    removals = flagged = 0
    for r in results:
        for move in r.moves:
            a = added_at.pop(move.paper_id, None)  # a paper's first move only
            if a is not None and a.section == move.source:
                moves += 1
                caught += a.verdict == "move" and a.verdict_section == move.target
                top1 += bool(a.blind) and a.blind[0] == move.target
                knn_top1 += bool(a.knn) and a.knn[0] == move.target
                top3 += move.target in a.blind[:3]
                knn_top3 += move.target in a.knn[:3]
        for removal in r.removals:
            a = added_at.get(removal.paper_id)
            later = [added_at[k] for k in removal.kept if k in added_at]
            if a is None and not later:
                continue
            removals += 1
            flagged += bool(a is not None and a.flagged) or any(
                removal.paper_id in b.flagged for b in later
            )
        for a in r.additions:
            added_at[a.paper_id] = a
    seconds = float(sum(r.seconds for r in results))
    adding = sum(bool(r.additions) for r in results)
    return ReplayFigures(
        steps=len(results),
        adding_steps=adding,
        additions=len(additions),
        judged=len(judged),
        new_or_empty=len(fresh),
        new_or_empty_top1=_share([bool(a.blind) and a.blind[0] == a.section for a in fresh]),
        new_or_empty_top3=_share([a.section in a.blind for a in fresh]),
        ours=_method(judged, eligible),
        knn=_method(judged, eligible, knn=True),
        misplacements=moves,
        misplacements_caught=caught,
        misplacements_top1=top1,
        misplacements_knn_top1=knn_top1,
        duplicates=removals,
        duplicates_flagged=flagged,
        seconds=seconds,
        seconds_per_step=seconds / adding if adding else None,
        embedded=embedded,
        by_year=by_year,
        misplacements_top3=top3,
        misplacements_knn_top3=knn_top3,
        judged_with_abstract=sum(a.with_abstract for a in judged),
    )
