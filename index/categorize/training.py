"""What the combiner learns from: the list's own entries, each placed as if it were new.

Two rows per entry: its features with itself hidden (leave-one-out), and with its whole
section emptied, two decoy sections too (``Categorizer.new_section_features`` says why).
Each row looks at every entry of the list, so fitting on all of them grows as n^2: up to
``SAMPLE_ABOVE`` labelled entries every one is used (exactly as before), above it a sample of
that size, stratified by section (each section in proportion, at least two entries of each),
and the rows are computed a chunk at a time, so time and memory grow linearly in the list.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from secml_papers.index.categorize.features import (
    BASE_FEATURES,
    PROBE_FEATURES,
    WORD_FEATURES,
    Evidence,
    section_features,
)
from secml_papers.index.categorize.probe_features import Probes, probe_features_without
from secml_papers.index.categorize.word_probe import WordProbe
from secml_papers.index.lexical import LexicalIndex


class Learner(Protocol):
    """What training reads of a categorizer (``Categorizer`` is one); a protocol, so this
    module needs no import of the categorizer that imports it."""

    papers: tuple
    candidates: tuple
    labels: np.ndarray
    vectors: np.ndarray
    texts: tuple[str, ...]
    heading_vectors: np.ndarray
    evidence: Evidence
    probes: Probes
    lexical: tuple[LexicalIndex, LexicalIndex]
    labelled: np.ndarray
    words: WordProbe | None


SAMPLE_ABOVE = 2000  # labelled entries; docs/quality.md's figures are for lists below this
CHUNK_CELLS = 4_000_000  # queries x entries at a time: one chunk up to 2,000 entries
_MIN_PER_SECTION = 2


def training_rows(labels: np.ndarray, limit: int = SAMPLE_ABOVE) -> np.ndarray:
    """The labelled entries to learn from: all of them up to ``limit``, else a stratified,
    deterministic sample of about ``limit`` (evenly spaced within each section)."""
    rows = np.flatnonzero(labels >= 0)
    if len(rows) <= limit:
        return rows
    picked = []
    for j in np.unique(labels[rows]):
        members = rows[labels[rows] == j]
        share = round(limit * len(members) / len(rows))
        take = min(len(members), max(_MIN_PER_SECTION, share))
        spots = np.unique(np.linspace(0, len(members) - 1, take).round().astype(np.int64))
        picked.append(members[spots])
    return np.sort(np.concatenate(picked))


def emptied_sections(labels: np.ndarray, rows: np.ndarray, count: int) -> list[np.ndarray]:
    """Per row, the sections emptied for its new-section row: its own and the next two."""
    truth = labels[rows]
    return [truth, (truth + 1) % count, (truth + 2) % count]


def training_features(cat: Learner, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(leave-one-out, new-section) features of the entries ``rows``, each (rows, sections,
    features): what ``Categorizer.features`` gives them with the matching entries hidden."""
    evidence, probes = cat.evidence, cat.probes
    entries, headings = cat.lexical
    n, sections = len(cat.papers), len(cat.candidates)
    base, probed = len(BASE_FEATURES), len(BASE_FEATURES) + len(PROBE_FEATURES)
    loo = np.empty((len(rows), sections, probed + len(WORD_FEATURES)))
    new = np.empty_like(loo)
    emptied = emptied_sections(cat.labels, rows, sections)
    loo[:, :, base:probed] = _loo_probes(evidence, probes, rows)
    new[:, :, base:probed] = _emptied_probes(evidence, probes, rows, emptied)
    loo[:, :, probed:], new[:, :, probed:] = _word_scores(cat, rows, emptied)
    step = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        chunk = rows[part]
        vectors = cat.vectors[chunk]
        texts = [cat.texts[i] for i in chunk]
        shared = (
            vectors @ cat.vectors.T,
            vectors @ cat.heading_vectors.T,
            entries.score_matrix(texts),
            headings.score_matrix(texts),
        )
        hidden = np.zeros((len(chunk), n), dtype=bool)
        hidden[np.arange(len(chunk)), chunk] = True
        loo[part, :, :base] = section_features(evidence, *shared, hidden)
        hidden[:] = False
        for chosen in emptied:
            hidden |= cat.labels[None, :] == chosen[part, None]
        new[part, :, :base] = section_features(evidence, *shared, hidden)
    return loo, new


def _word_scores(
    cat: Learner, rows: np.ndarray, emptied: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The word probe's (leave-one-out, emptied sections) scores of the entries ``rows``,
    each (rows, sections, 1); the probe is fitted on exactly these entries (``labelled``)."""
    loo = np.zeros((len(rows), len(cat.candidates), 1))
    new = np.zeros_like(loo)
    words = cat.words
    if words is None:
        return loo, new
    if not np.array_equal(rows, cat.labelled):  # its left-out formulas hold for its own rows
        raise ValueError("the word probe's training scores are for the rows it was fitted on")
    loo[:, :, 0] = words.leave_one_out()
    truth = emptied[0]
    for section in np.unique(truth):
        queries = np.flatnonzero(truth == section)
        gone = [int(e[queries[0]]) for e in emptied]
        block = np.flatnonzero(np.isin(cat.labels[rows], gone))
        where = {int(b): k for k, b in enumerate(block)}
        scores = words.block_out(block)
        new[queries, :, 0] = scores[[where[int(q)] for q in queries]]
    words.forget()  # its inverse is only for the fit (tens of MB on a long list)
    return loo, new


def _positions(evidence: Evidence) -> np.ndarray:
    """Each entry's row in the probes' fit (the labelled entries), -1 for the others."""
    labelled = np.flatnonzero(evidence.labels >= 0)
    out = np.full(len(evidence.labels), -1, dtype=np.int64)
    out[labelled] = np.arange(len(labelled))
    return out


def _loo_probes(evidence: Evidence, probes: Probes, rows: np.ndarray) -> np.ndarray:
    out = np.zeros((len(rows), evidence.n_sections, len(PROBE_FEATURES)))
    every = len(rows) == int((evidence.labels >= 0).sum())
    picked = None if every else _positions(evidence)[rows]
    for column, (probe, groups) in enumerate(probes):
        out[:, :, column] = probe.leave_one_out(picked) @ groups.T
    return out


def _emptied_probes(
    evidence: Evidence, probes: Probes, rows: np.ndarray, emptied: list[np.ndarray]
) -> np.ndarray:
    """Probe features with the emptied sections left out of the fit: one block per section."""
    out = np.zeros((len(rows), evidence.n_sections, len(PROBE_FEATURES)))
    if not probes:
        return out
    labelled = np.flatnonzero(evidence.labels >= 0)
    sampled = len(rows) < len(labelled)  # below the threshold: the dual form, as ever
    position = _positions(evidence)
    truth = emptied[0]
    for section in np.unique(truth):
        queries = np.flatnonzero(truth == section)
        gone_sections = {int(e[queries[0]]) for e in emptied}
        gone = np.flatnonzero(np.isin(evidence.labels[labelled], list(gone_sections)))
        mine = position[rows[queries]]
        primal = sampled and len(gone) > probes[0][0].design.dim
        out[queries] = probe_features_without(evidence, probes, mine, gone, primal)
    return out
