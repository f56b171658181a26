"""What kind of paper a title reads as (an attack, a defense, a certified defense, a survey,
a benchmark): a word model learnt across lists.

Many lists split each topic into "Attack Papers" and "Defense Papers", and some keep
"Certified Robustness", "Survey Papers" or "Benchmark and Evaluation" apart. A sentence model
embeds a title by its topic, so "MemGuard: Defending against Black-Box Membership Inference
Attacks" sits among the attacks it defends against, and a list's own entries are too few to
learn the words that tell the kinds apart. Those words are the same in every list
("defending", "mitigating", "robust" against "attack", "fooling", "stealing"; "certified",
"provable"; "a survey"; "benchmarking", "evaluating"), so they are learnt once, by
``bench/quality/fit_stance.py``: TF-IDF of the title's words and word pairs, and of its
words' character n-grams (3 to 5: "certifiable", "certificates" and "certified" share
"certi"), then a multinomial logistic regression of the kinds, on the titles of the real
lists of ../shared/datasets/list-histories (labelled by their section's heading) and of the
OWASP data set (labelled by its paper type). The fitted weights ship as ``stance.json`` beside this
module.

For a list whose sections are of at least two of these kinds, the categoriser adds to the
calibrated logit of each such section the title's log-probability of that section's kind,
less the mean over the kinds the list has (``offsets``), times a gain that the list's own
held-out entries choose (``calibration.fit_gain``: how far this list's maintainers follow the
words); sections of no kind, and lists with fewer than two kinds, are untouched. Replayed on
the real histories with a model fitted without the list replayed (leave-one-list-out,
docs/quality.md), it moved blind top-1 up on every list with such sections.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from secml_papers.index.categorize.kinds import kind_of
from secml_papers.index.categorize.tfidf import char_grams, tokens, weighted

SHIPPED = Path(__file__).with_name("stance.json")
KINDS = ("attack", "defense", "certified", "survey", "benchmark")
FLOOR = -8.0  # no title's words push a kind further down than this log-probability
CHARS = (3, 5)  # character n-grams of the words: "certifiable", "certificates", "certified"
_CERTIFIED = ("certif", "provab", "verif")  # "Certified Robustness" is a defense of its own


@lru_cache(maxsize=4096)  # asked for every candidate of every categorisation
def kind(path: tuple[str, ...]) -> str:
    """The kind of a section: that of its heading, or of the nearest parent that names one
    ("" when none does). A defense heading that names certification is "certified".

    >>> kind(("Backdoor Attacks", "Defense Papers")), kind(("4. Certified Robustness Papers",))
    ('defense', 'certified')
    """
    for part in reversed(path):
        found = kind_of(part)
        if found == "defense" and any(w in part.casefold() for w in _CERTIFIED):
            return "certified"
        if found:
            return found
    return ""


def word_terms(title: str) -> list[str]:
    """A title's words and word pairs (scikit-learn's ``ngram_range=(1, 2)``)."""
    words = tokens(title)
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def char_terms(title: str) -> list[str]:
    return char_grams(title, *CHARS)


@dataclass(frozen=True)
class Terms:
    """One block of the model's features: a TF-IDF vocabulary with its idf, and the weight
    of each term for each kind (terms x kinds)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray

    def score(self, terms: list[str]) -> np.ndarray:
        """What these terms add to each kind's logit."""
        found = weighted(Counter(terms), self.vocabulary, self.idf)
        if not found:
            return np.zeros(self.weights.shape[1])
        rows, values = zip(*found, strict=True)
        return np.asarray(values) @ self.weights[list(rows)]

    def to_lines(self) -> list[str]:
        return [
            f"{json.dumps(t)}: "
            + json.dumps(
                [round(float(self.idf[i]), 6), [round(float(w), 6) for w in self.weights[i]]]
            )
            for t, i in sorted(self.vocabulary.items())
        ]

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> Terms:
        terms = sorted(data)
        return cls(
            {t: i for i, t in enumerate(terms)},
            np.array([data[t][0] for t in terms], dtype=np.float64),
            np.array([data[t][1] for t in terms], dtype=np.float64).reshape(len(terms), -1),
        )


class Stance:
    """A fitted word model: TF-IDF of a title's words and word pairs, and of its words'
    character n-grams (each block at unit length), then one logit per kind."""

    def __init__(
        self,
        words: Terms,
        chars: Terms,
        intercepts: np.ndarray,
        kinds: Sequence[str],
        trained_on: dict[str, int],
    ) -> None:
        self.words = words
        self.chars = chars
        self.intercepts = np.asarray(intercepts, dtype=np.float64)
        self.kinds = tuple(kinds)
        self.trained_on = dict(trained_on)  # source name -> titles it gave

    def logits(self, title: str) -> np.ndarray:
        """A title's logit per kind (zeros for no title).

        The fit's transform, written out: scikit-learn's TF-IDF (sublinear counts, idf, unit
        length) costs two seconds of import on every start of the command line;
        tests/test_stance.py checks both give the same probabilities.
        """
        terms = word_terms(title)
        if not terms:
            return np.zeros(len(self.kinds))
        return self.intercepts + self.words.score(terms) + self.chars.score(char_terms(title))

    def log_probabilities(self, titles: Sequence[str]) -> np.ndarray:
        """(titles, kinds): each title's log-probability of each kind, floored at FLOOR;
        a missing title has the same for every kind (it says nothing)."""
        logits = np.array([self.logits(t) for t in titles]).reshape(len(titles), len(self.kinds))
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return np.maximum(log_p, FLOOR)

    def offsets(self, titles: Sequence[str], candidates: Sequence[Sequence[str]]) -> np.ndarray:
        """(titles, candidates): what the stance adds to each candidate's logit."""
        out = np.zeros((len(titles), len(candidates)))
        column = {k: i for i, k in enumerate(self.kinds)}
        kinds = [kind(tuple(path)) for path in candidates]
        present = sorted({k for k in kinds if k in column})
        if len(present) < 2:
            # one kind or none: a section named "Backdoor Attacks" among topics holds the
            # defenses against backdoors too
            return out
        log_p = self.log_probabilities(titles)[:, [column[k] for k in present]]
        log_p -= log_p.mean(axis=1, keepdims=True)
        for j, k in enumerate(kinds):
            if k in present:
                out[:, j] = log_p[:, present.index(k)]
        return out

    def to_json(self) -> str:
        """The model as JSON, one term to a line (a refit reads as a diff of its terms)."""
        head = {
            "kinds": list(self.kinds),
            "intercepts": [round(float(b), 6) for b in self.intercepts],
            "trained_on": self.trained_on,
        }
        fields = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in head.items()]
        for name, block in (("words", self.words), ("chars", self.chars)):
            fields.append(f'"{name}": {{\n' + ",\n".join(block.to_lines()) + "\n}")
        return "{\n" + ",\n".join(fields) + "\n}"

    @classmethod
    def from_json(cls, text: str) -> Stance:
        data = json.loads(text)
        return cls(
            Terms.from_dict(data["words"]),
            Terms.from_dict(data["chars"]),
            np.array(data["intercepts"]),
            data["kinds"],
            data["trained_on"],
        )


def fit(examples: dict[str, Sequence[tuple[str, str]]], c: float = 4.0) -> Stance:
    """The model from (title, kind) pairs per source; titles of no known kind are left out.
    Balanced classes: lists hold more attacks than defenses, a title should not."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [(t, k) for pairs in examples.values() for t, k in pairs if k in KINDS]
    if len({k for _, k in rows}) < 2:
        raise ValueError("the stance needs titles of at least two kinds of section")
    titles = [t for t, _ in rows]
    blocks = [
        TfidfVectorizer(analyzer=word_terms, sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer=char_terms, sublinear_tf=True, min_df=2),
    ]
    x = sparse.hstack([b.fit_transform(titles) for b in blocks]).tocsr()
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    model.fit(x, [k for _, k in rows])
    kinds = [str(k) for k in model.classes_]
    weights, intercepts = model.coef_.T, model.intercept_
    if len(kinds) == 2:  # one column for two kinds: the first kind's logit is 0
        weights = np.hstack([np.zeros_like(weights), weights])
        intercepts = np.array([0.0, intercepts[0]])
    split = len(blocks[0].vocabulary_)
    words, chars = (
        Terms(dict(b.vocabulary_), b.idf_, part)
        for b, part in zip(blocks, (weights[:split], weights[split:]), strict=True)
    )
    counts = {name: sum(1 for _, k in pairs if k in KINDS) for name, pairs in examples.items()}
    return Stance(words, chars, intercepts, kinds, counts)


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
