"""A linear probe: ridge regression from a paper's vector to its section (and parent, and kind).

Nearest-neighbour evidence looks at a few entries; a probe looks at all of them at once and
learns which directions of the embedding separate, say, defenses from attacks. Ridge has a
closed form, and an exact leave-one-out shortcut through the hat matrix, so the leave-one-out
features the combiner learns from cost one linear solve.

Scores are per group (a section, a parent heading, a heading name); the features map them to
the candidate sections, so an empty "Defense Papers" still gets the "defense" direction
learnt from its namesakes under other parents.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

RIDGE = 1.0


@dataclass(frozen=True)
class Design:
    """The entries' ridge Gram matrix and its inverse: what every probe on the same entries
    shares, and the costly part of fitting one (n x d^2, then d^3).

    The design matrix itself (the vectors in float64 with a bias column) is made when needed
    and not kept: at 100,000 entries it would hold 300 MB for as long as the list is served.
    """

    vectors: np.ndarray  # all the list's vectors, not copied
    rows: np.ndarray | None  # the entries fitted on (None: every one)
    gram: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(
        cls, vectors: np.ndarray, ridge: float = RIDGE, rows: np.ndarray | None = None
    ) -> Design:
        x = _with_bias(vectors if rows is None else vectors[rows])
        gram = x.T @ x + ridge * np.eye(x.shape[1])
        return cls(vectors, rows, gram, np.linalg.inv(gram))

    @property
    def dim(self) -> int:
        return self.gram.shape[0]

    def x(self, at: np.ndarray | None = None) -> np.ndarray:
        """Rows ``at`` (positions among the fitted entries; default all) of the design."""
        if self.rows is None:
            return _with_bias(self.vectors if at is None else self.vectors[at])
        return _with_bias(self.vectors[self.rows if at is None else self.rows[at]])

    def without(self, block: np.ndarray) -> np.ndarray:
        """The ridge Gram matrix of the entries outside ``block``: for ``block_out`` in the
        primal, shared by every probe on these entries."""
        xb = self.x(block)
        return self.gram - xb.T @ xb


class RidgeProbe:
    """Fitted on labelled entry vectors and one-hot group memberships (entries x groups).

    The primal form ((dim+1) x (dim+1)) keeps the cost linear in the number of entries.
    """

    def __init__(
        self,
        vectors: np.ndarray,
        member: np.ndarray,
        ridge: float = RIDGE,
        design: Design | None = None,
    ) -> None:
        design = Design.of(vectors, ridge) if design is None else design
        self.design = design
        self.mean = member.mean(axis=0)
        self.y = member - self.mean
        self.inverse = design.inverse
        self.weights = self.inverse @ design.x().T @ self.y

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """(queries, groups) scores for papers that are not entries."""
        return _with_bias(vectors) @ self.weights + self.mean

    def block_out(self, block: np.ndarray, gram: np.ndarray | None = None) -> np.ndarray:
        """(len(block), groups): scores of entries ``block`` from the probe fitted without them.

        Exact for ridge: the held-out residuals are (I - H_BB)^-1 times the fitted ones, so a
        whole section is left out by a solve the size of the section, not a refit. Given
        ``gram`` (``Design.without(block)``), the probe is refitted in the primal instead,
        which costs less once the block is larger than the dimension (same result, up to
        rounding).
        """
        xb = self.design.x(block)
        if gram is not None:
            rhs = self.xty - xb.T @ self.y[block]
            return xb @ np.linalg.solve(gram, rhs) + self.mean
        hat = xb @ self.inverse @ xb.T
        residual = self.y[block] - xb @ self.weights
        held_out = np.linalg.solve(np.eye(len(block)) - hat, residual)
        return self.y[block] - held_out + self.mean

    @cached_property
    def xty(self) -> np.ndarray:
        return self.design.x().T @ self.y

    def leave_one_out(self, rows: np.ndarray | None = None) -> np.ndarray:
        """(entries, groups): each entry's scores from the probe fitted without it (exact);
        ``rows`` picks some entries (positions among the fitted ones), default all."""
        if rows is None:
            x, y = self.design.x(), self.y
            h = np.einsum("ij,jk,ik->i", x, self.inverse, x)[:, None]
        else:  # a sample of a long list: the same diagonal by one matrix product
            x, y = self.design.x(rows), self.y[rows]
            h = ((x @ self.inverse) * x).sum(axis=1)[:, None]
        fitted = x @ self.weights
        return (fitted - h * y) / np.maximum(1.0 - h, 1e-9) + self.mean


def _with_bias(vectors: np.ndarray) -> np.ndarray:
    return np.hstack([vectors.astype(np.float64), np.ones((len(vectors), 1))])
