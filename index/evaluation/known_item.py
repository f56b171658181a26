"""Known-item search: can a reader who half-remembers an entry find it again?

Each entry is searched for with one query, and the figures say where it ranked: MRR@10 (the
mean of 1/rank, 0 beyond 10) and hit@10. The query is the entry's one-line note when the list
has one (and then the note is taken out of what is searched, or it would find itself), else
a paraphrase of its title made by ``paraphrase``, a fixed rule, so the figures can be
reproduced and compared between methods and models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from secml_papers.corpus.records import Paper
from secml_papers.index.build import paper_text
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.lexical import LexicalIndex
from secml_papers.index.search.paper_index import MODES
from secml_papers.index.search.ranking import rank

CUTOFF = 10
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")
_STOP_WORDS = (
    "a an the of for in on and or to with via by from towards toward against under using is "
    "are be we our its their as at into through not how what when can do does"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
# Words a reader says differently from the title: inflections and near-synonyms, both ways.
_SWAPS = {
    "attack": "attacks",
    "attacks": "attack",
    "defense": "defence",
    "defenses": "defences",
    "detecting": "detection",
    "detection": "detecting",
    "models": "model",
    "model": "models",
    "neural": "deep",
    "networks": "nets",
    "network": "net",
    "learning": "training",
    "robustness": "robust",
    "robust": "robustness",
    "examples": "inputs",
    "adversarial": "adversarial",
    "backdoor": "backdoors",
    "backdoors": "backdoor",
    "poisoning": "poisoned",
    "privacy": "private",
    "inference": "inferring",
    "mitigating": "mitigation",
    "language": "text",
    "large": "big",
}

Progress = Callable[[int, int], None]


def paraphrase(title: str) -> str:
    """A reader's query for a title: the rule behind the known-item figures.

    1. a short name before a colon is dropped ("FLAME: Taming ..." -> "Taming ...");
    2. words are lower-cased, stop words removed;
    3. every third remaining word is dropped (the reader half-remembers);
    4. the rest are swapped through a small table of inflections and near-synonyms.

    >>> paraphrase("Neural Cleanse: Identifying and Mitigating Backdoor Attacks in Neural Networks")
    'identifying mitigation attack deep'
    """
    head, colon, rest = title.partition(":")
    if colon and len(head.split()) <= 3 and rest.strip():
        title = rest
    words = [w.lower() for w in _WORD.findall(title) if w.lower() not in _STOP]
    kept = [w for i, w in enumerate(words) if i % 3 != 2 or len(words) <= 3]
    return " ".join(_SWAPS.get(w, w) for w in kept) or title.lower()


@dataclass(frozen=True)
class RetrievalScores:
    mode: str
    queries: int
    mrr: float
    hit: float

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "queries": self.queries,
            f"mrr@{CUTOFF}": round(self.mrr, 4),
            f"hit@{CUTOFF}": round(self.hit, 4),
        }


def queries_for(papers: Sequence[Paper]) -> tuple[list[str], str]:
    """One query per entry, and a sentence saying where they came from."""
    notes = [getattr(p, "note", None) for p in papers]
    queries = [
        n.strip() if n and n.strip() else paraphrase(p.title)
        for p, n in zip(papers, notes, strict=True)
    ]
    with_note = sum(bool(n and n.strip()) for n in notes)
    source = (
        f"{with_note} notes and {len(papers) - with_note} title paraphrases"
        if with_note
        else f"{len(papers)} title paraphrases"
    )
    return queries, source


def known_item(
    papers: Sequence[Paper],
    vectors: np.ndarray | None,
    embedder: Embedder,
    queries: Sequence[str],
    modes: Sequence[str] = MODES,
    progress: Progress | None = None,
) -> list[RetrievalScores]:
    """Rank of each entry for its own query, per mode. Notes are taken out of what is searched.

    ``vectors`` are the entries' index vectors, reused when no entry has a note.
    """
    bare = [replace(p, note=None) if getattr(p, "note", None) else p for p in papers]
    if vectors is None or any(b is not p for b, p in zip(bare, papers, strict=True)):
        texts = [paper_text(p) for p in bare]
        vectors = np.vstack([embedder.embed(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    lexical = LexicalIndex([paper_text(p) for p in bare])
    query_vectors = embedder.embed(list(queries))
    allowed = np.ones(len(papers), dtype=bool)
    ranks = {mode: [] for mode in modes}
    for i, (query, vector) in enumerate(zip(queries, query_vectors, strict=True)):
        for mode in modes:
            scores = rank(mode, vectors, lexical, vector, query, allowed)
            better = int(np.sum(scores > scores[i])) if np.isfinite(scores[i]) else len(papers)
            ranks[mode].append(better + 1)
        if progress and (i + 1) % 50 == 0:
            progress(i + 1, len(queries))
    out = []
    for mode in modes:
        r = np.array(ranks[mode])
        mrr = float(np.mean(np.where(r <= CUTOFF, 1.0 / r, 0.0))) if len(r) else 0.0
        hit = float(np.mean(r <= CUTOFF)) if len(r) else 0.0
        out.append(RetrievalScores(mode, len(r), mrr, hit))
    return out
