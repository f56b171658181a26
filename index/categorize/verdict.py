"""check-pr's word on one added paper: "ok", "move" or "unsure".

Most placements a contributor chooses are right (on the replayed histories of real lists the
maintainers kept about nine in ten where they were), so the chosen section is a prior, not a
guess to be overruled by a close call: the blind confidences are reweighed with the chosen
section at ``CHOSEN_PRIOR`` and every other at an equal share of the rest. The verdict is
"ok" when the chosen section then comes first, "move" only when another section reaches
``MOVE_ABOVE``, and "unsure" otherwise. Both numbers come from ``bench/`` replays
(docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CHOSEN_PRIOR = 0.9
MOVE_ABOVE = 0.7


@dataclass(frozen=True)
class Verdict:
    word: str  # "ok", "move" or "unsure"
    section: tuple[str, ...] | None  # the chosen section when "ok", the target when "move"
    confidence: float  # of that section, with the contributor's choice as a prior
    chosen_blind: float = 0.0  # the blind confidences: of the chosen section,
    other_blind: float = 0.0  # and of the best other one
    other: tuple[str, ...] | None = None
    candidates: int = 0


def reweigh(
    chosen_blind: float, other_blind: float, candidates: int, prior: float = CHOSEN_PRIOR
) -> tuple[float, float]:
    """(chosen, best other) confidences with the prior: the blind ones times the prior's weight
    (``prior`` for the chosen section, an equal share of the rest for each other), renormalised;
    only these two are needed, so the others' mass is taken as what the chosen one leaves."""
    if candidates < 2:
        return chosen_blind, other_blind
    rest = (1.0 - prior) / (candidates - 1)
    total = prior * chosen_blind + rest * (1.0 - chosen_blind)
    if total <= 0:
        return chosen_blind, other_blind
    return prior * chosen_blind / total, rest * other_blind / total


def word(
    chosen: float, other: float, in_candidates: bool, off_topic: bool, move_above: float
) -> str:
    """The verdict from the reweighed confidences of the chosen and the best other section."""
    if in_candidates and chosen >= other:
        return "ok"
    return "move" if not off_topic and other >= move_above else "unsure"


def judge(
    sections: Sequence[tuple[str, ...]],
    confidences: np.ndarray,
    chosen: tuple[str, ...],
    *,
    prior: float = CHOSEN_PRIOR,
    move_above: float = MOVE_ABOVE,
    off_topic: bool = False,
) -> Verdict:
    """The verdict for a paper placed in ``chosen`` among ``sections`` (blind confidences).

    A paper placed under a heading that cannot hold entries has no prior: it is moved to the
    best section when one is confident, else unsure. An off-topic paper (far from every entry
    and heading) is never told to move.
    """
    if not len(sections):
        return Verdict("ok", chosen, 1.0)
    index = {s: j for j, s in enumerate(sections)}
    c = index.get(chosen)
    p = np.asarray(confidences, dtype=np.float64)
    others = [j for j in np.argsort(-p, kind="stable") if j != c]
    o = int(others[0]) if others else None
    chosen_blind = float(p[c]) if c is not None else 0.0
    other_blind = float(p[o]) if o is not None else 0.0
    if c is not None:
        q_chosen, q_other = reweigh(chosen_blind, other_blind, len(p), prior)
    else:
        q_chosen, q_other = 0.0, other_blind
    said = word(q_chosen, q_other, c is not None, off_topic, move_above)
    section = chosen if said == "ok" else (sections[o] if o is not None else None)
    confidence = q_chosen if said == "ok" else q_other
    other = sections[o] if o is not None else None
    return Verdict(said, section, confidence, chosen_blind, other_blind, other, len(p))
