"""TF-IDF of a title's terms as scikit-learn computes it, written out: the stance model's
transform (``stance.py``, fitted with scikit-learn) and the word probe's (``word_probe.py``)
read titles the same way, without importing scikit-learn (two seconds on every start of the
command line)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
_SPACES = re.compile(r"\s\s+")


def tokens(text: str) -> list[str]:
    """A title's words, lower-cased, of two characters or more (scikit-learn's default)."""
    return _TOKEN.findall(text.lower())


def char_grams(text: str, shortest: int, longest: int) -> list[str]:
    """The character n-grams of each word padded with a space, as scikit-learn's
    ``analyzer="char_wb"`` makes them ("certifiable" and "certified" share " cert", "rtif")."""
    grams = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(shortest, longest + 1):
            if len(padded) <= n:  # a word no longer than n: itself, once
                grams.append(padded)
                break
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


def weighted(
    terms: Counter, vocabulary: Mapping[str, int], idf: np.ndarray
) -> list[tuple[int, float]]:
    """The known terms' (column, value): sublinear count times idf, the row at unit length
    (``sublinear_tf=True``, the default ``norm="l2"``)."""
    known = [(vocabulary[t], n) for t, n in terms.items() if t in vocabulary]
    values = [(1.0 + math.log(n)) * idf[i] for i, n in known]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [(i, v / norm) for (i, _), v in zip(known, values, strict=True)]
