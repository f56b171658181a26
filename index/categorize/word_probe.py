"""A word probe: ridge regression from a title's words to its section, learnt on the list.

The sentence model embeds a title by its overall topic, and on a list of many neighbouring
topics the words that decide a placement ("jailbreak", "fairness", "watermark", "unlearning")
weigh no more in the embedding than the rest of the title. BM25 (``lex``) finds the one entry
that shares the rarest words, but not which words separate one section from another. This
probe learns that from the list's own entries: TF-IDF of the title's words and of their
character n-grams (``tfidf.py``: sublinear counts, smoothed idf, unit length; the n-grams
let "jailbreaking" and "jailbreak", or "watermarking" and "watermarks", count as one), then
kernel ridge regression on the sections' one-hot, in the dual form (a title has a few
hundred terms of a vocabulary of tens of thousands), which gives exact leave-one-out and
left-out-section scores from one inverse.

It is fitted on the entries the combiner learns from (``training.py``: at most a sample of
about 2,000 on a long list), so its inverse is at most 2,000 x 2,000 (about 1.5 s on one
core; dropped once the fit has its left-out scores). On the replayed histories it raised
blind top-1 on the list with the most sections (Awesome-LM-SSP, 25) from 78.1% to 79.7% and
left the others within a paper, at a cost in calibration there (ECE 0.023 to 0.047); the
character n-grams then raised pooled top-1 from 79.5% to 80.2% (docs/quality.md).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import linalg, sparse

from secml_papers.index.categorize.tfidf import char_grams, tokens, weighted

RIDGE = 3.0  # chosen on the replayed histories: 1, 3, 10, 30 tried (docs/quality.md)
CHARS = (3, 5)  # the words' character n-grams too: "jailbreak", "jailbreaking", "jailbroken"


def terms(text: str) -> list[str]:
    """What the probe reads of a title: its words, and its words' character n-grams (marked,
    so that an n-gram never counts as the word it spells)."""
    return tokens(text) + ["#" + g for g in char_grams(text, *CHARS)]


class WordProbe:
    """Fitted on ``texts`` and their sections' indices ``labels`` (all >= 0)."""

    def __init__(
        self, texts: Sequence[str], labels: np.ndarray, sections: int, ridge: float = RIDGE
    ) -> None:
        counted = [Counter(terms(t)) for t in texts]
        df = Counter(w for c in counted for w in c)
        self.vocabulary = {w: i for i, w in enumerate(sorted(df))}
        n = len(counted)
        self.idf = np.array([math.log((1 + n) / (1 + df[w])) + 1.0 for w in sorted(df)])
        self.ridge = ridge
        self.x = self.transform_counts(counted)
        member = np.zeros((n, sections))
        member[np.arange(n), labels] = 1.0
        self.mean = member.mean(axis=0)
        self.y = member - self.mean
        self._inverse: np.ndarray | None = None
        self._alpha: np.ndarray | None = None

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.transform_counts([Counter(terms(t)) for t in texts])

    def transform_counts(self, counted: Sequence[Counter]) -> sparse.csr_matrix:
        rows, cols, values = [], [], []
        for r, c in enumerate(counted):
            row = weighted(c, self.vocabulary, self.idf)
            rows += [r] * len(row)
            cols += [i for i, _ in row]
            values += [v for _, v in row]
        shape = (len(counted), len(self.vocabulary))
        return sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.float64)

    def kernel(self, x: sparse.csr_matrix) -> np.ndarray:
        """(rows of x, fitted titles): cosine of the TF-IDF vectors, plus 1 (the bias)."""
        return np.asarray((x @ self.x.T).todense()) + 1.0

    def gram(self) -> np.ndarray:
        return self.kernel(self.x) + self.ridge * np.eye(self.x.shape[0])

    @property
    def alpha(self) -> np.ndarray:
        """The dual weights (K + ridge I)^-1 Y, by a Cholesky solve (a third of the inverse's
        cost: a borrowed fit only predicts), the same whichever is asked first."""
        if self._alpha is None:
            self._alpha = linalg.solve(self.gram(), self.y, assume_a="pos")
        return self._alpha

    @property
    def inverse(self) -> np.ndarray:
        """(K + ridge I)^-1 over the fitted titles: needed by the fit and by left-out scores,
        not by new papers; ``forget`` drops it (32 MB at 2,000 titles) once the fit is done."""
        if self._inverse is None:
            self._inverse = np.linalg.inv(self.gram())
        return self._inverse

    def forget(self) -> None:
        self.alpha  # noqa: B018 (kept: new papers need it)
        self._inverse = None

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, sections) scores of papers that are not among the fitted titles."""
        return self.kernel(self.transform(texts)) @ self.alpha + self.mean

    def leave_one_out(self) -> np.ndarray:
        """(fitted titles, sections): each title's scores from the probe fitted without it
        (exact: the held-out residual is alpha_i / A_ii)."""
        held_out = self.alpha / np.diag(self.inverse)[:, None]
        return self.y - held_out + self.mean

    def block_out(self, block: np.ndarray) -> np.ndarray:
        """(len(block), sections): scores of fitted titles ``block`` (positions) from the
        probe fitted without all of them (exact: the residuals are A_BB^-1 alpha_B)."""
        inverse = self.inverse
        held_out = np.linalg.solve(inverse[np.ix_(block, block)], self.alpha[block])
        return self.y[block] - held_out + self.mean

    def predict_without(self, texts: Sequence[str], block: np.ndarray) -> np.ndarray:
        """``predict`` by the probe fitted without the titles ``block`` (positions): its
        dual weights are the rest's, less A_RB A_BB^-1 alpha_B."""
        if not len(block):
            return self.predict(texts)
        inverse = self.inverse
        rest = np.setdiff1d(np.arange(self.x.shape[0]), block)
        shift = inverse[np.ix_(rest, block)] @ np.linalg.solve(
            inverse[np.ix_(block, block)], self.alpha[block]
        )
        alpha = self.alpha[rest] - shift
        return self.kernel(self.transform(texts))[:, rest] @ alpha + self.mean
