"""Which section of the list a paper belongs in, with a confidence and an abstention.

Per candidate section (every heading that can hold entries, empty ones included):

* ``knn``: mean cosine similarity of the paper to the two closest entries of the section;
* ``head``: cosine similarity to the section's heading path ("Security of ML Models >
  Membership Inference Attacks"), the only evidence an empty section has.

The score is ``max(knn, head) + HEAD_WEIGHT * head``; chosen by leave-one-out over the bundled
list (top-1 0.70, top-3 0.96 on its 27 entries, against 0.67 / 0.93 for kNN alone).
Confidences are a softmax over the sections plus a "none of these" option with a fixed score,
so an off-topic paper spreads its mass onto "none" and abstains. The softmax temperature is
fitted by leave-one-out on the list itself (least negative log-likelihood of the true section).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from secml_papers.corpus.records import Paper, Section
from secml_papers.index.embedder import Embedder

HEAD_WEIGHT = 0.5
NONE_SCORE = 0.45  # score of "none of these"; in-list papers score ~0.8-1.3, off-topic ~0.2
ABSTAIN_BELOW = 0.7  # chosen by leave-one-out: bench/checkpr_thresholds.py
KNN_K = 2
EVIDENCE = 3
_TEMPERATURES = np.geomspace(0.01, 1.0, 40)
_LOO_CAP = 2000


@dataclass(frozen=True)
class Suggestion:
    section: tuple[str, ...]
    confidence: float
    evidence: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "section": list(self.section),
            "confidence": round(self.confidence, 4),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Categorization:
    suggestions: tuple[Suggestion, ...]
    abstain: bool

    def to_dict(self) -> dict:
        return {"suggestions": [s.to_dict() for s in self.suggestions], "abstain": self.abstain}


def heading_text(path: Sequence[str]) -> str:
    return " > ".join(path)


class Categorizer:
    """Ranks the list's sections for a paper; evidence comes from the list's entries only."""

    def __init__(
        self,
        papers: Sequence[Paper],
        vectors: np.ndarray,
        sections: Sequence[Section],
        embedder: Embedder,
        abstain_below: float = ABSTAIN_BELOW,
    ) -> None:
        self.papers = tuple(papers)
        self.vectors = vectors
        self.candidates = tuple(s.path for s in sections if s.can_hold_entries)
        self.embedder = embedder
        self.abstain_below = abstain_below
        index = {path: j for j, path in enumerate(self.candidates)}
        self.labels = np.array([index.get(p.section, -1) for p in self.papers], dtype=np.int64)

    @cached_property
    def heading_vectors(self) -> np.ndarray:
        return self.embedder.embed([heading_text(p) for p in self.candidates])

    def categorize(self, title: str, abstract: str | None = None) -> Categorization:
        text = title.strip() + (f". {abstract.strip()}" if abstract and abstract.strip() else "")
        return self.categorize_vector(self.embedder.embed([text])[0])

    def categorize_vector(self, vector: np.ndarray, exclude: Sequence[int] = ()) -> Categorization:
        scores, evidence = self._scores(vector, exclude)
        confidences = _softmax_with_none(scores, self.temperature)
        order = np.argsort(-confidences, kind="stable")
        suggestions = tuple(
            Suggestion(self.candidates[j], float(confidences[j]), evidence[j]) for j in order
        )
        abstain = not suggestions or suggestions[0].confidence < self.abstain_below
        return Categorization(suggestions, abstain)

    def _scores(
        self, vector: np.ndarray, exclude: Sequence[int] = ()
    ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        sims = self.vectors @ vector if len(self.vectors) else np.zeros(0)
        head = self.heading_vectors @ vector if self.candidates else np.zeros(0)
        skip = set(exclude)
        scores = np.empty(len(self.candidates))
        evidence: list[tuple[str, ...]] = []
        for j in range(len(self.candidates)):
            members = [i for i in np.flatnonzero(self.labels == j) if i not in skip]
            ranked = sorted(members, key=lambda i: -sims[i])
            knn = float(np.mean(sims[ranked[:KNN_K]])) if ranked else -1.0
            scores[j] = max(knn, float(head[j])) + HEAD_WEIGHT * float(head[j])
            evidence.append(tuple(self.papers[i].id for i in ranked[:EVIDENCE]))
        return scores, evidence

    @cached_property
    def temperature(self) -> float:
        """Fitted by leave-one-out over the list's entries; a default when there are too few."""
        labelled = [i for i in range(len(self.papers)) if self.labels[i] >= 0][:_LOO_CAP]
        if len(labelled) < 5 or len(self.candidates) < 2:
            return 0.1
        rows = [self._scores(self.vectors[i], exclude=[i])[0] for i in labelled]
        truth = self.labels[labelled]
        losses = []
        for t in _TEMPERATURES:
            probs = np.array([_softmax_with_none(r, t) for r in rows])
            losses.append(-np.mean(np.log(probs[np.arange(len(truth)), truth] + 1e-12)))
        return float(_TEMPERATURES[int(np.argmin(losses))])


def _softmax_with_none(scores: np.ndarray, temperature: float) -> np.ndarray:
    logits = np.append(scores, NONE_SCORE) / temperature
    logits -= logits.max()
    weights = np.exp(logits)
    return (weights / weights.sum())[:-1]
