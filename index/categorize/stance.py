"""Whether a title reads as an attack or as a defense: a word model learnt across lists.

Many lists split each topic into "Attack Papers" and "Defense Papers". A sentence model
embeds a title by its topic, so "MemGuard: Defending against Black-Box Membership Inference
Attacks" sits among the attacks it defends against, and a list's own entries are too few to
learn the words that tell the two apart. Those words are the same in every list
("defending", "mitigating", "robust", "certified" against "attack", "fooling", "stealing"),
so they are learnt once, across the real lists of ../shared/datasets/list-histories, by
``bench/quality/fit_stance.py``: TF-IDF of the title's words and word pairs, then a logistic
regression of defense (and certified) sections against attack sections. The fitted weights
ship as ``stance.json`` beside this module.

The categoriser adds ``GAIN`` times the title's score (its log-odds of defense, clipped) to
the calibrated logit of every section whose heading names a defense, and subtracts it from
every section whose heading names an attack (``kinds.kind_of``); other sections are
untouched, and so is a list that does not split attacks from defenses. Replayed on the real
histories with a model fitted without the list replayed (leave-one-list-out,
docs/quality.md), it moved blind top-1 up on every list with such sections.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from secml_papers.index.categorize.kinds import kind_of
from secml_papers.index.categorize.tfidf import tokens, weighted

SHIPPED = Path(__file__).with_name("stance.json")
GAIN = 1.0  # logit per unit of log-odds: chosen on the replayed histories (docs/quality.md)
CLIP = 4.0  # no title's words outweigh the rest of the evidence on their own
_SIGNS = {"defense": 1.0, "certified": 1.0, "attack": -1.0}
_TRANSFORM = {"ngram_range": (1, 2), "sublinear_tf": True}  # the fit's TF-IDF (scikit-learn)


@lru_cache(maxsize=4096)  # asked for every candidate of every categorisation
def sign(path: tuple[str, ...]) -> float:
    """+1 for a section whose heading (or the nearest parent that names a kind) is a defense,
    -1 for an attack, 0 otherwise."""
    for part in reversed(path):
        kind = kind_of(part)
        if kind:
            return _SIGNS.get(kind, 0.0)
    return 0.0


class Stance:
    """A fitted word model: the TF-IDF vocabulary with its idf, one weight per term."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        weights: np.ndarray,
        intercept: float,
        trained_on: dict[str, int],
    ) -> None:
        self.vocabulary = dict(vocabulary)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.intercept = float(intercept)
        self.trained_on = dict(trained_on)  # list name -> entries it gave

    def score(self, title: str) -> float:
        """A title's log-odds of being a defense paper, clipped to +-CLIP (0 for no title).

        The fit's transform, written out: scikit-learn's TF-IDF of words and word pairs
        (sublinear counts, idf, unit length) costs two seconds of import on every start of
        the command line; tests/test_stance.py checks both give the same scores.
        """
        words = tokens(title)
        if not words:
            return 0.0
        terms = Counter(words + [f"{a} {b}" for a, b in pairwise(words)])
        logit = sum(v * self.weights[i] for i, v in weighted(terms, self.vocabulary, self.idf))
        return float(np.clip(logit + self.intercept, -CLIP, CLIP))

    def scores(self, titles: Sequence[str]) -> np.ndarray:
        return np.array([self.score(t) for t in titles], dtype=np.float64)

    def offsets(self, titles: Sequence[str], candidates: Sequence[Sequence[str]]) -> np.ndarray:
        """(titles, candidates): what the stance adds to each candidate's logit."""
        signs = np.array([sign(tuple(path)) for path in candidates], dtype=np.float64)
        if not ((signs > 0).any() and (signs < 0).any()):
            # no split of attacks from defenses: a section named "Backdoor Attacks" among
            # topics holds the defenses against backdoors too
            return np.zeros((len(titles), len(candidates)))
        return GAIN * self.scores(titles)[:, None] * signs[None, :]

    def to_json(self) -> str:
        vocabulary, idf = self.vocabulary, self.idf
        return json.dumps(
            {
                "intercept": round(self.intercept, 6),
                "trained_on": self.trained_on,
                "terms": {
                    t: [round(float(idf[i]), 6), round(float(self.weights[i]), 6)]
                    for t, i in sorted(vocabulary.items())
                },
            },
            indent=0,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Stance:
        data = json.loads(text)
        terms = sorted(data["terms"])
        return cls(
            {t: i for i, t in enumerate(terms)},
            np.array([data["terms"][t][0] for t in terms]),
            np.array([data["terms"][t][1] for t in terms]),
            data["intercept"],
            data["trained_on"],
        )


def fit(examples: dict[str, Sequence[tuple[str, float]]], c: float = 4.0) -> Stance:
    """The model from (title, sign) pairs per list; titles of sections with sign 0 are left
    out. Balanced classes: lists hold more attacks than defenses, a title should not."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [(t, s) for pairs in examples.values() for t, s in pairs if s]
    if len({s for _, s in rows}) < 2:
        raise ValueError("the stance needs titles of both attack and defense sections")
    learnt = TfidfVectorizer(**_TRANSFORM, min_df=2)
    x = learnt.fit_transform([t for t, _ in rows])
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    model.fit(x, [s > 0 for _, s in rows])
    counts = {name: sum(1 for _, s in pairs if s) for name, pairs in examples.items()}
    return Stance(learnt.vocabulary_, learnt.idf_, model.coef_[0], model.intercept_[0], counts)


@lru_cache(maxsize=1)
def shipped() -> Stance | None:
    """The model fitted on the real lists, or None when the file is missing (no stance)."""
    return Stance.from_json(SHIPPED.read_text()) if SHIPPED.exists() else None


_OVERRIDE: ContextVar[tuple[Stance | None] | None] = ContextVar("stance", default=None)


def active() -> Stance | None:
    """The model a new categoriser uses: the shipped one unless ``using`` says otherwise."""
    override = _OVERRIDE.get()
    return shipped() if override is None else override[0]


@contextmanager
def using(model: Stance | None) -> Iterator[None]:
    """Categorisers made inside use ``model`` (None: no stance). The replay benchmark uses
    it to judge a model fitted without the list it replays."""
    token = _OVERRIDE.set((model,))
    try:
        yield
    finally:
        _OVERRIDE.reset(token)
