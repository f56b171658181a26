"""The learned combiner of per-section features, and the calibration of its confidence.

The combiner is a conditional logit: one weight per feature, shared by all sections, and a
softmax over the sections. Sharing the weights is what lets a small or empty section win on
its heading when its few entries cannot outvote a big section's many. It is fitted by
penalised maximum likelihood (Newton's method: eight weights, a few dozen iterations) on
leave-one-out features of the list's own entries.

Fitted and scored on the same entries, a model looks surer than it is. So the confidence
is calibrated on *out-of-fold* logits (the combiner refitted with each fold held out) by
one temperature, chosen by likelihood: softmax(logits / T). A temperature keeps the ranking
and keeps the confidences a distribution (their sum is at most 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

L2 = 1.0
_TEMPERATURES = np.geomspace(0.2, 5.0, 61)
MAX_GAIN = 4.0  # the stance's offsets, at most (fit_gain)


FAR_QUANTILE = 0.1  # a paper farther from the entries than 90% of the list's own entries,
FAR_ENTRIES = 3  # or than all but three of them on a longer list (replayed histories)
FAR_SPAN = 0.1  # cosine below that point over which the headings take over entirely
HEAD_MARGIN = 0.1  # how much less like a heading than like its nearest entry it may be
FAR_GAIN = 3.0  # logit per standard deviation of the heading feature once they have


@dataclass(frozen=True)
class Gate:
    """When a paper is far from every entry, the headings decide.

    The combiner learns from the list's own entries, each of which has near neighbours; a
    paper unlike all of them (a malware detector on a list of attacks on models) is outside
    what it saw, and its entry features only say which section is least unlike it. Then a
    heading feature (``column``: the heading's lift) should win, above all for the empty
    sections that exist for such papers. ``far`` rises from 0 at ``below`` (the nearest-entry
    similarity that all but ``FAR_QUANTILE`` of the list's entries reach in leave-one-out)
    to 1 at ``below - FAR_SPAN``; the logits move from the combiner's to the heading's in
    proportion. The list's own entries are almost all above ``below``: their placement, and
    so the leave-one-out figures, barely change.
    """

    nearest: int  # feature column of the nearest entries' similarity (``knn``)
    column: int  # the heading feature that takes over
    below: float
    heading: int = -1  # the headings' raw similarity (``head``): they take over only if

    def far(self, features: np.ndarray) -> np.ndarray:
        best = features[..., self.nearest].max(axis=-1)
        far = np.clip((self.below - best) / FAR_SPAN, 0.0, 1.0)
        if self.heading < 0:
            return far
        # ... the paper is about as close to some heading as to its nearest entry (within
        # HEAD_MARGIN): one unlike the entries and the headings alike (a recipe) is not the
        # headings' to place
        closer = features[..., self.heading].max(axis=-1) - best + HEAD_MARGIN
        return far * np.clip(closer / FAR_SPAN + 1.0, 0.0, 1.0)


@dataclass(frozen=True)
class Combiner:
    """Weights over standardised features; ``logits`` are per (query, section)."""

    weights: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    temperature: float = 1.0
    gate: Gate | None = None

    def logits(self, features: np.ndarray) -> np.ndarray:
        learnt = ((features - self.mean) / self.scale) @ self.weights
        if self.gate is None:
            return learnt
        c = self.gate.column
        heading = FAR_GAIN * (features[..., c] - self.mean[c]) / self.scale[c]
        far = self.gate.far(features)[..., None]
        return (1.0 - far) * learnt + far * heading

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return softmax(self.logits(features) / self.temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_combiner(
    features: np.ndarray,
    truth: np.ndarray,
    l2: float = L2,
    weights: np.ndarray | None = None,
    iterations: int = 50,
) -> Combiner:
    """Penalised conditional-logit fit of (queries, sections, features) to the true sections.

    ``weights`` per query (default 1) let rarer kinds of example count less.
    """
    flat = features.reshape(-1, features.shape[-1])
    mean = flat.mean(axis=0)
    scale = flat.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    x = (features - mean) / scale
    rows = np.arange(len(truth))
    sample = np.ones(len(truth)) if weights is None else weights
    w = np.zeros(features.shape[-1])

    def loss(w: np.ndarray) -> float:
        z = x @ w
        z = z - z.max(axis=1, keepdims=True)
        log_p = z[rows, truth] - np.log(np.exp(z).sum(axis=1))
        return float(-(sample * log_p).sum() + 0.5 * l2 * w @ w)

    current = loss(w)
    for _ in range(iterations):
        p = softmax(x @ w)
        expected = np.einsum("qs,qsf->qf", p, x)
        grad = (sample[:, None] * (expected - x[rows, truth])).sum(axis=0) + l2 * w
        # sum over (q, s) of sample * p * x x^T: one matrix product (a four-operand einsum
        # loops element by element, and was half of a fit's time)
        weighted = ((sample[:, None] * p)[:, :, None] * x).reshape(-1, x.shape[-1])
        second = weighted.T @ x.reshape(-1, x.shape[-1]) - expected.T @ (sample[:, None] * expected)
        step = np.linalg.solve(second + l2 * np.eye(len(w)), grad)
        for _ in range(30):  # step halving keeps every Newton step a descent step
            trial = w - step
            trial_loss = loss(trial)
            if trial_loss <= current:
                break
            step = step / 2
        else:
            break
        converged = current - trial_loss < 1e-8
        w, current = trial, trial_loss
        if converged:
            break
    return Combiner(w, mean, scale)


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature with the least negative log-likelihood of the true sections."""
    rows = np.arange(len(truth))
    losses = [-np.mean(np.log(softmax(logits / t)[rows, truth] + 1e-12)) for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def fit_gain(logits: np.ndarray, offsets: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(gain, temperature) for ``softmax((logits + gain * offsets) / temperature)``: how far a
    list's own held-out entries say to trust an evidence learnt elsewhere (the stance), and
    the temperature that goes with it.

    ``logits / T + (gain / T) * offsets`` is a conditional logit with two weights, so one
    Newton fit of them (``fit_combiner``) gives the gain as their ratio, kept within
    [0, MAX_GAIN]: evidence that disagrees with the list gets none, and no title's words
    outweigh the rest by more than MAX_GAIN. The temperature is then fitted as everywhere.
    """
    if not offsets.any():
        return 0.0, fit_temperature(logits, truth)
    model = fit_combiner(np.stack([logits, offsets], axis=-1), truth, l2=1e-6)
    sharpness, weight = model.weights / model.scale
    gain = float(np.clip(weight / sharpness, 0.0, MAX_GAIN)) if sharpness > 0 else 0.0
    return gain, fit_temperature(logits + gain * offsets, truth)


def _training_set(
    features: np.ndarray,
    truth: np.ndarray,
    extra: np.ndarray | None,
    extra_weight: float,
    keep: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept queries, plus (when given) the same queries' extra rows at a lower weight."""
    if extra is None:
        return features[keep], truth[keep], np.ones(int(keep.sum()))
    both = np.concatenate([features[keep], extra[keep]])
    weights = np.concatenate([np.ones(int(keep.sum())), np.full(int(keep.sum()), extra_weight)])
    return both, np.concatenate([truth[keep], truth[keep]]), weights


def out_of_fold_logits(
    features: np.ndarray,
    truth: np.ndarray,
    extra: np.ndarray | None = None,
    extra_weight: float = 0.0,
    folds: int = 10,
    l2: float = L2,
    gate: Gate | None = None,
) -> np.ndarray:
    """Each query's logits from a combiner fitted without its fold (deterministic folds).

    ``extra`` holds a second row per query (same truth) used in training only; ``gate``, when
    given, applies to the held-out logits as it will to new papers.
    """
    n = len(truth)
    out = np.zeros(features.shape[:2])
    fold_of = np.arange(n) % max(2, min(folds, n))
    for k in np.unique(fold_of):
        test = fold_of == k
        x, y, w = _training_set(features, truth, extra, extra_weight, ~test)
        model = fit_combiner(x, y, l2, w)
        out[test] = replace(model, gate=gate).logits(features[test])
    return out


def far_gate(features: np.ndarray, nearest: int, column: int, heading: int = -1) -> Gate:
    """The gate for a list whose entries' leave-one-out features are ``features``."""
    best = features[..., nearest].max(axis=-1)
    if not len(best):
        return Gate(nearest, column, 0.0, heading)
    share = min(FAR_QUANTILE, FAR_ENTRIES / len(best))
    return Gate(nearest, column, float(np.quantile(best, share)), heading)


def fit_calibrated(
    features: np.ndarray,
    truth: np.ndarray,
    extra: np.ndarray | None = None,
    extra_weight: float = 0.0,
    folds: int = 10,
    l2: float = L2,
    gate: tuple[int, ...] | None = None,
) -> tuple[Combiner, np.ndarray]:
    """The combiner fitted on every query, its temperature from out-of-fold logits.

    Also returns the calibrated out-of-fold confidences (queries x sections): an honest
    estimate of how the shipped model does on papers it was not fitted to. ``gate`` names the
    feature columns of a ``Gate`` (nearest entries, heading): see ``Gate`` for why.
    """
    far = far_gate(features, *gate) if gate is not None else None
    held_out = out_of_fold_logits(features, truth, extra, extra_weight, folds, l2, far)
    temperature = fit_temperature(held_out, truth)
    everything = np.ones(len(truth), dtype=bool)
    x, y, w = _training_set(features, truth, extra, extra_weight, everything)
    model = fit_combiner(x, y, l2, w)
    calibrated = Combiner(model.weights, model.mean, model.scale, temperature, far)
    return calibrated, softmax(held_out / temperature)
