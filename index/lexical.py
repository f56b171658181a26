"""BM25 over short texts, through bm25s (a maintained library; BM25 is not hand-rolled here).

Dense embeddings blur rare exact words (an acronym such as "FLAME", a dataset name); BM25
keeps them. Words are lower-cased, English stop words dropped and Snowball-stemmed, so
"backdoors" finds "backdoor".
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Each text as its stemmed words, stop words removed (the same rule for docs and queries).

    >>> tokenize(["Backdoors in Federated Learning"])
    [['backdoor', 'feder', 'learn']]
    """
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


class LexicalIndex:
    """BM25 scores of a query against a fixed set of documents."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self._retriever = bm25s.BM25()
        if self.size:
            self._retriever.index(tokenize(texts), show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per document; zeros when no query word occurs in any document."""
        return self.scores_tokens(tokenize([query])[0])

    def scores_tokens(self, tokens: list[str]) -> np.ndarray:
        if not self.size or not tokens:
            return np.zeros(self.size, dtype=np.float32)
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def score_matrix(self, queries: Sequence[str]) -> np.ndarray:
        """Scores of many queries at once, one row per query."""
        return np.vstack([self.scores_tokens(t) for t in tokenize(queries)]).reshape(
            len(queries), self.size
        )
