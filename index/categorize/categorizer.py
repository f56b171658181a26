"""Which section of the list a paper belongs in, with a calibrated confidence and an abstention.

Every heading that can hold entries is a candidate, empty ones included. Per candidate the
paper gets the features of ``features.py`` (nearest entries, centroid, neighbour vote,
heading path, BM25); a conditional logit learnt from the list itself weighs them, and one
temperature calibrates the result (``calibration.py``). Both are fitted once, on first use,
by leave-one-out over the list's entries (a bounded sample of them on a long list,
``training.py``): a few matrix products, then cached; ``reuse.py`` reuses the fit for
another version of the list with the same entries (check-pr's BASE). Last, a word model
learnt once across real lists tilts the sections whose headings name a kind of paper (attack,
defense, certified, survey, benchmark) by how the title reads (``stance.py``), at a gain the
list's own held-out entries choose.

Why this and not plain nearest-neighbour voting: on the OWASP benchmark (docs/quality.md) the
combiner places new papers better, and its confidence means what it says, so one threshold
(ABSTAIN_BELOW, chosen from the same measurements, shared with check-pr) keeps wrong
"move it" advice rare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from secml_papers.corpus.records import Paper, Section
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.calibration import (
    Combiner,
    fit_calibrated,
    fit_gain,
    softmax,
)
from secml_papers.index.categorize.features import (
    FEATURES,
    PROBE_FEATURES,
    Evidence,
    heading_text,
    section_features,
)
from secml_papers.index.categorize.probe import Design
from secml_papers.index.categorize.probe_features import (
    Probes,
    fit_probes,
    probe_features,
    probe_features_without,
)
from secml_papers.index.categorize.training import SAMPLE_ABOVE, training_features, training_rows
from secml_papers.index.categorize.word_probe import WordProbe
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.lexical import LexicalIndex

ABSTAIN_BELOW = 0.7  # chosen from the reliability curve: bench/quality/quality.py, docs/quality.md
EVIDENCE = 3
NEW_SECTION_WEIGHT = 0.2  # how often a paper belongs to a new or empty section, roughly
MIN_TO_FIT = 8  # fewer labelled entries than this: fixed weights, no fitting
# Used when the list is too small to learn from: nearest entries and heading count alike.
_FALLBACK = {"knn": 10.0, "head": 15.0}
# Off-topic guard: a paper this far below the list's own entries abstains whatever its ranking.
_OFF_TOPIC_MARGIN = 0.1


def entry_text(paper: Paper) -> str:
    """What the categoriser's words (BM25, the word probe, the stance) read of an entry: its
    title, then its tags (the badges a list writes beside it: "Diffusion", "Agent", "Defense"),
    which name what a title often leaves out."""
    return with_tags(paper.title, paper.tags)


def with_tags(title: str, tags: Sequence[str]) -> str:
    return " ".join([title.strip(), *(t.strip() for t in tags if t.strip())])


def described(section: Section) -> str:
    """What the list says a section holds: the prose under its heading, and the clause of the
    list's introduction that names its topic (``corpus.outline.introduced``)."""
    return " ".join(t for t in (section.description.strip(), section.intro.strip()) if t)


@dataclass(frozen=True)
class Suggestion:
    section: tuple[str, ...]
    confidence: float
    evidence: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "section": list(self.section),
            "confidence": round(self.confidence, 4),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Categorization:
    suggestions: tuple[Suggestion, ...]
    abstain: bool
    off_topic: bool = False  # far from every entry and heading of the list

    def to_dict(self) -> dict:
        return {"suggestions": [s.to_dict() for s in self.suggestions], "abstain": self.abstain}


class Categorizer:
    """Ranks the list's sections for a paper; evidence comes from the list's entries only.

    ``texts`` are what BM25 and the word probe read for each entry: by default the titles
    with their tags (``entry_text``). Titles placed new papers better on the benchmark than
    titles with abstracts (temporal split, top-1 0.530 against 0.515; level on leave-one-out,
    docs/quality.md): the embedding already reads the abstract, and words of long, sometimes
    mismatched abstracts add more noise than evidence.
    """

    def __init__(
        self,
        papers: Sequence[Paper],
        vectors: np.ndarray,
        sections: Sequence[Section],
        embedder: Embedder,
        abstain_below: float = ABSTAIN_BELOW,
        texts: Sequence[str] | None = None,
        sample_above: int = SAMPLE_ABOVE,
    ) -> None:
        self.papers = tuple(papers)
        self.vectors = vectors
        held = [s for s in sections if s.can_hold_entries]
        self.candidates = tuple(s.path for s in held)
        self.headings = tuple(heading_text(s.path, described(s)) for s in held)
        self.embedder = embedder
        self.abstain_below = abstain_below
        self.texts = tuple(texts) if texts is not None else tuple(map(entry_text, self.papers))
        self.sample_above = sample_above
        index = {path: j for j, path in enumerate(self.candidates)}
        self.labels = np.array([index.get(p.section, -1) for p in self.papers], dtype=np.int64)
        self.design: Design | None = None  # the probes' inverse, when shared (reuse.py)
        self.stance = stance.active()  # the kind of paper, by a title's words (stance.py)
        self.derived: dict[tuple, Categorizer] = {}  # other candidates, same entries (reuse.py)

    @cached_property
    def heading_vectors(self) -> np.ndarray:
        if not self.candidates:
            return np.zeros((0, self.vectors.shape[1] if self.vectors.ndim == 2 else 1))
        return self.embedder.embed(list(self.headings))

    @cached_property
    def evidence(self) -> Evidence:
        return Evidence(self.labels, self.vectors, self.heading_vectors, self.candidates)

    @cached_property
    def probes(self) -> Probes:
        return fit_probes(self.evidence, self.design)

    @cached_property
    def words(self) -> WordProbe | None:
        """The word probe, fitted on the entries the combiner learns from (None: too few)."""
        rows = self.labelled
        if len(rows) < 2:
            return None
        probe = WordProbe([self.texts[i] for i in rows], self.labels[rows], len(self.candidates))
        if "_fitted" in self.__dict__:  # a borrowed fit (reuse.py): no left-out scores to come
            probe.forget()
        return probe

    def word_features(self, texts: Sequence[str], hidden: np.ndarray | None) -> np.ndarray:
        """(queries, candidates, 1): the word probe's scores, each query's hidden entries
        left out of its fit."""
        out = np.zeros((len(texts), len(self.candidates), 1))
        if self.words is None:
            return out
        if hidden is None or not hidden[:, self.labelled].any():
            out[:, :, 0] = self.words.predict(texts)
            return out
        for q, mask in enumerate(hidden):  # rare: an entry of the list placed without itself
            block = np.flatnonzero(mask[self.labelled])
            out[q, :, 0] = self.words.predict_without([texts[q]], block)[0]
        return out

    @cached_property
    def entries_lexical(self) -> LexicalIndex:
        return LexicalIndex(self.texts)

    @cached_property
    def lexical(self) -> tuple[LexicalIndex, LexicalIndex]:
        return self.entries_lexical, LexicalIndex(list(self.headings))

    def features(
        self, vectors: np.ndarray, texts: Sequence[str], hidden: np.ndarray | None = None
    ) -> np.ndarray:
        """(queries, candidates, features) for papers given by vector and text."""
        entries, headings = self.lexical
        sims = vectors @ self.vectors.T if len(self.vectors) else np.zeros((len(vectors), 0))
        base = section_features(
            self.evidence,
            sims,
            vectors @ self.heading_vectors.T,
            entries.score_matrix(texts),
            headings.score_matrix(texts),
            hidden,
        )
        if hidden is not None and hidden.any():
            probes = self._probes_without(vectors, hidden)
        else:
            probes = probe_features(self.evidence, vectors, self.probes)
        return np.concatenate([base, probes, self.word_features(texts, hidden)], axis=2)

    def _probes_without(self, vectors: np.ndarray, hidden: np.ndarray) -> np.ndarray:
        """Probe features with each query's hidden entries left out of the probe's fit.

        Queries that are entries of the list use exact closed forms; other papers with hidden
        entries (rare) get a probe refitted per set. (The training rows: ``training.py``.)
        """
        rows = np.flatnonzero(self.labels >= 0)
        out = np.zeros((len(vectors), len(self.candidates), len(PROBE_FEATURES)))
        masks: dict[bytes, list[int]] = {}
        for q, mask in enumerate(hidden):
            masks.setdefault(np.packbits(mask).tobytes(), []).append(q)
        position = {int(r): k for k, r in enumerate(rows)}
        for queries in masks.values():  # one computation per distinct set of hidden entries
            mask = hidden[queries[0]]
            own = [self._entry_of(vectors[q]) for q in queries]
            if all(i is not None and mask[i] for i in own):
                gone = np.flatnonzero(mask[rows])
                mine = np.array([position[int(i)] for i in own])
                out[queries] = probe_features_without(self.evidence, self.probes, mine, gone)
                continue
            labels = np.where(mask, -1, self.labels)
            evidence = Evidence(labels, self.vectors, self.heading_vectors, self.candidates)
            out[queries] = probe_features(evidence, vectors[queries])
        return out

    def _entry_of(self, vector: np.ndarray) -> int | None:
        """The labelled entry whose vector this is, if any (queries from the list itself)."""
        found = np.flatnonzero((self.labels >= 0) & np.all(self.vectors == vector, axis=1))
        return int(found[0]) if len(found) == 1 else None

    @cached_property
    def labelled(self) -> np.ndarray:
        """The entries that sit in a candidate section and the model learns from: all of them
        up to ``sample_above``, else a sample stratified by section (``training.py``)."""
        return training_rows(self.labels, self.sample_above)

    @cached_property
    def _training(self) -> tuple[np.ndarray, np.ndarray]:
        return training_features(self, self.labelled)

    @property
    def loo_features(self) -> np.ndarray:
        """Each labelled entry's features with itself hidden from the evidence."""
        return self._training[0]

    @property
    def new_section_features(self) -> np.ndarray:
        """Each labelled entry's features with its whole section emptied, and two others.

        This is the case of a paper whose section is new or still empty: without these rows
        the combiner would never see a right answer in an empty section, and would learn to
        ignore headings. Two decoy sections (the next ones in the list) are emptied too, so
        that being empty is no clue in itself; the heading has to tell them apart.
        """
        return self._training[1]

    @cached_property
    def _fitted(self) -> tuple[Combiner, np.ndarray | None]:
        rows = self.labelled
        if len(rows) < MIN_TO_FIT or len(self.candidates) < 2:
            weights = np.array([_FALLBACK.get(f, 0.0) for f in FEATURES])
            ones = np.ones(len(FEATURES))
            return Combiner(weights, np.zeros(len(FEATURES)), ones), None
        gate = (FEATURES.index("knn"), FEATURES.index("head_lift"), FEATURES.index("head"))
        return fit_calibrated(
            self.loo_features,
            self.labels[rows],
            self.new_section_features,
            NEW_SECTION_WEIGHT,
            gate=gate,
        )

    @property
    def model(self) -> Combiner:
        return self._fitted[0]

    @cached_property
    def _with_stance(self) -> tuple[np.ndarray | None, float, float]:
        """The out-of-fold confidences with the stance's offsets added, the temperature that
        calibrates the sum again, and the gain the offsets get (``fit_gain``: the list's own
        held-out entries say how far to trust the stance; 1 and 1 when it adds nothing)."""
        held = self._fitted[1]
        if held is None:
            return None, 1.0, 1.0
        offsets = self.stance_offsets([self.texts[i] for i in self.labelled])
        if not offsets.any():
            return held, 1.0, 1.0
        logits = np.log(np.maximum(held, 1e-300))
        gain, temperature = fit_gain(logits, offsets, self.labels[self.labelled])
        return softmax((logits + gain * offsets) / temperature), temperature, gain

    @property
    def held_out(self) -> np.ndarray | None:
        """Out-of-fold confidences of the labelled entries (None when too few to fit), the
        stance included as a new paper gets it."""
        return self._with_stance[0]

    def stance_offsets(self, titles: Sequence[str]) -> np.ndarray:
        """(titles, candidates): what the stance adds to the calibrated logits."""
        if self.stance is None:
            return np.zeros((len(titles), len(self.candidates)))
        return self.stance.offsets(titles, self.candidates)

    @property
    def temperature(self) -> float:
        return self.model.temperature

    @cached_property
    def off_topic_below(self) -> float:
        """Best similarity to any entry or heading under which a paper is off-topic."""
        if len(self.labelled) < MIN_TO_FIT:
            return 0.2
        best = np.maximum(
            self.loo_features[:, :, 0].max(axis=1), self.loo_features[:, :, 3].max(axis=1)
        )
        return float(np.min(best)) - _OFF_TOPIC_MARGIN

    def categorize(
        self, title: str, abstract: str | None = None, tags: Sequence[str] = ()
    ) -> Categorization:
        """The abstract, when given, is embedded with the title; the words (BM25, the word
        probe, the stance) read the title and the tags, as they read the entries'."""
        text = title.strip() + (f". {abstract.strip()}" if abstract and abstract.strip() else "")
        return self.categorize_vector(self.embedder.embed([text])[0], with_tags(title, tags))

    def categorize_vector(
        self, vector: np.ndarray, text: str = "", exclude: Sequence[int] = ()
    ) -> Categorization:
        if not self.candidates:
            return Categorization((), True)
        hidden = np.zeros((1, len(self.papers)), dtype=bool)
        hidden[0, list(exclude)] = True
        features = self.features(vector.reshape(1, -1), [text], hidden)
        logits = self.model.logits(features)[0] / self.model.temperature
        _, temperature, gain = self._with_stance
        logits = (logits + gain * self.stance_offsets([text])[0]) / temperature
        confidences = softmax(logits)
        return self.categorization(confidences, vector, features[0], exclude)

    def categorization(
        self,
        confidences: np.ndarray,
        vector: np.ndarray,
        features: np.ndarray,
        exclude: Sequence[int] = (),
    ) -> Categorization:
        """Suggestions ranked by confidence, with the nearest entries of each as evidence.

        A paper less similar to every entry and heading than any entry of the list is to the
        rest is off-topic: it abstains, and its confidences shrink in proportion (the rest is
        "none of these"), so a recipe never reads as a 0.5 placement.
        """
        best = float(max(features[:, 0].max(), features[:, 3].max()))
        if best < self.off_topic_below:
            level = self.off_topic_below + _OFF_TOPIC_MARGIN
            confidences = (
                confidences * float(np.clip(best / level, 0.0, 1.0))
                if level > 0
                else 0 * confidences
            )
        sims = self.vectors @ vector if len(self.vectors) else np.zeros(0)
        skip = set(exclude)
        order = np.argsort(-confidences, kind="stable")
        suggestions = []
        for j in order:
            members = self.evidence.members[j]
            if skip:
                members = members[~np.isin(members, list(skip))]
            ranked = members[np.argsort(-sims[members], kind="stable")[:EVIDENCE]]
            evidence = tuple(self.papers[i].id for i in ranked)
            suggestions.append(Suggestion(self.candidates[j], float(confidences[j]), evidence))
        off_topic = best < self.off_topic_below
        abstain = off_topic or suggestions[0].confidence < self.abstain_below
        return Categorization(tuple(suggestions), abstain, off_topic)
