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

import numpy as np

RIDGE = 1.0


class RidgeProbe:
    """Fitted on labelled entry vectors and one-hot group memberships (entries x groups).

    The primal form ((dim+1) x (dim+1)) keeps the cost linear in the number of entries.
    """

    def __init__(self, vectors: np.ndarray, member: np.ndarray, ridge: float = RIDGE) -> None:
        x = _with_bias(vectors)
        self.x = x
        self.mean = member.mean(axis=0)
        self.y = member - self.mean
        self.inverse = np.linalg.inv(x.T @ x + ridge * np.eye(x.shape[1]))
        self.weights = self.inverse @ x.T @ self.y

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """(queries, groups) scores for papers that are not entries."""
        return _with_bias(vectors) @ self.weights + self.mean

    def block_out(self, block: np.ndarray) -> np.ndarray:
        """(len(block), groups): scores of entries ``block`` from the probe fitted without them.

        Exact for ridge: the held-out residuals are (I - H_BB)^-1 times the fitted ones, so a
        whole section is left out by a solve the size of the section, not a refit.
        """
        xb = self.x[block]
        hat = xb @ self.inverse @ xb.T
        residual = self.y[block] - xb @ self.weights
        held_out = np.linalg.solve(np.eye(len(block)) - hat, residual)
        return self.y[block] - held_out + self.mean

    def leave_one_out(self) -> np.ndarray:
        """(entries, groups): each entry's scores from the probe fitted without it (exact)."""
        fitted = self.x @ self.weights
        h = np.einsum("ij,jk,ik->i", self.x, self.inverse, self.x)[:, None]
        return (fitted - h * self.y) / np.maximum(1.0 - h, 1e-9) + self.mean


def _with_bias(vectors: np.ndarray) -> np.ndarray:
    return np.hstack([vectors.astype(np.float64), np.ones((len(vectors), 1))])
