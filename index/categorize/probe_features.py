"""The ridge probes' features (``probe``, ``probeparent``, ``probekind``; ``features.py``
lists them all): one probe per grouping of the sections (the section itself, its parent
heading, its heading name), fitted once per list on the labelled entries and read for new
papers, for entries left out one at a time, or with whole blocks of entries hidden."""

from __future__ import annotations

import numpy as np

from secml_papers.index.categorize.features import PROBE_FEATURES, Evidence, grouping, kind, parent
from secml_papers.index.categorize.probe import Design, RidgeProbe

Probes = list[tuple[RidgeProbe, np.ndarray]]  # a probe and its (sections, groups) map


def fit_probes(evidence: Evidence, design: Design | None = None) -> Probes:
    """The three ridge probes (section, parent, heading name) on the labelled entries.

    They share one ``Design`` (the labelled entries' ridge inverse), which does not depend on
    the sections: ``design`` is reused when given.
    """
    rows = np.flatnonzero(evidence.labels >= 0)
    if len(rows) < 2:
        return []
    every = len(rows) == len(evidence.labels)
    design = Design.of(evidence.vectors, rows=None if every else rows) if design is None else design
    onehot = np.zeros((len(rows), evidence.n_sections))
    onehot[np.arange(len(rows)), evidence.labels[rows]] = 1.0
    probes = []
    for key in (lambda p: p, parent, kind):
        groups = grouping(evidence.candidates, key)
        probes.append((RidgeProbe(evidence.vectors, onehot @ groups, design=design), groups))
    return probes


def probe_features(
    evidence: Evidence, vectors: np.ndarray | None, probes: Probes | None = None
) -> np.ndarray:
    """(queries, sections, len(PROBE_FEATURES)) from ridge probes on the labelled entries.

    ``vectors`` None means the labelled entries themselves, each left out of its own probe.
    ``probes`` are reused when given (fitted once per list, not once per paper).
    """
    probes = fit_probes(evidence) if probes is None else probes
    rows = np.flatnonzero(evidence.labels >= 0)
    queries = len(rows) if vectors is None else len(vectors)
    out = np.zeros((queries, evidence.n_sections, len(PROBE_FEATURES)))
    for column, (probe, groups) in enumerate(probes):
        scores = probe.leave_one_out() if vectors is None else probe.predict(vectors)
        out[:, :, column] = scores @ groups.T
    return out


def probe_features_without(
    evidence: Evidence,
    probes: Probes,
    queries: np.ndarray,
    hidden: np.ndarray,
    primal: bool = False,
) -> np.ndarray:
    """Probe features of labelled entries ``queries`` with the entries ``hidden`` (a set that
    includes the queries) left out of the probes' fit; both are positions among the labelled
    entries. Exact, and far cheaper than refitting (``RidgeProbe.block_out``); ``primal`` for
    blocks larger than the dimension (the probes then share one Gram matrix)."""
    out = np.zeros((len(queries), evidence.n_sections, len(PROBE_FEATURES)))
    where = {int(h): k for k, h in enumerate(hidden)}
    picked = [where[int(q)] for q in queries]
    gram = probes[0][0].design.without(hidden) if primal and probes else None
    for column, (probe, groups) in enumerate(probes):
        out[:, :, column] = probe.block_out(hidden, gram)[picked] @ groups.T
    return out
