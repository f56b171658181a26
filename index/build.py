"""Incremental builds: embed only the entries whose text changed, reuse the rest."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from secml_papers.corpus.errors import IndexProblem
from secml_papers.corpus.records import Paper
from secml_papers.index.embedder import Embedder
from secml_papers.index.store import (
    IndexStore,
    Manifest,
    StoredIndex,
    index_description,
    new_faiss_index,
)

Progress = Callable[[int, int], None]
BATCH = 64


@dataclass(frozen=True)
class BuildReport:
    entries: int
    embedded: int
    reused: int
    seconds: float

    def summary(self) -> str:
        return (
            f"{self.entries} entries, {self.embedded} embedded now, "
            f"{self.reused} reused, {self.seconds:.1f} s"
        )


def paper_text(paper: Paper) -> str:
    """What is embedded for a paper: its title, then the list's one-line note and the abstract
    where they are known (the note often says what the title does not)."""
    text = paper.title
    for part in (getattr(paper, "note", None), paper.abstract):
        if part and part.strip():
            stop = "" if text.endswith((".", "?", "!")) else "."
            text = f"{text}{stop} {part.strip()}"
    return text


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def list_hash(papers: Sequence[Paper]) -> str:
    """A fingerprint of what the index holds: every entry's id and embedded text."""
    digest = hashlib.sha1()
    for p in sorted(papers, key=lambda p: p.id):
        digest.update(f"{p.id}\0{text_hash(paper_text(p))}\n".encode())
    return digest.hexdigest()[:16]


def is_fresh(stored: StoredIndex, papers: Sequence[Paper], model: str) -> bool:
    """True when the stored index holds exactly these entries' texts, embedded by ``model``."""
    return stored.manifest.model == model and stored.manifest.list_hash == list_hash(papers)


def build_index(
    papers: Sequence[Paper],
    embedder: Embedder,
    store: IndexStore,
    previous: StoredIndex | None = None,
    progress: Progress | None = None,
) -> tuple[StoredIndex, BuildReport]:
    """Embed what changed since ``previous``, write a new generation, and return it."""
    started = time.perf_counter()
    hashes = [text_hash(paper_text(p)) for p in papers]
    reusable: dict[str, np.ndarray] = {}
    if previous is not None and previous.manifest.model == embedder.name:
        for h, row in zip(previous.manifest.text_hashes, previous.vectors, strict=True):
            reusable[h] = row
    todo = [i for i, h in enumerate(hashes) if h not in reusable]
    fresh = _embed_in_batches(embedder, [paper_text(papers[i]) for i in todo], progress)
    dim = fresh.shape[1] if len(todo) else (previous.manifest.dim if previous else embedder.dim)
    vectors = np.zeros((len(papers), dim), dtype=np.float32)
    for row, i in enumerate(todo):
        vectors[i] = fresh[row]
    embedded_now = set(todo)
    for i, h in enumerate(hashes):
        if i not in embedded_now:
            if reusable[h].shape[0] != dim:
                raise IndexProblem("the previous index has another dimension; rebuild it")
            vectors[i] = reusable[h]
    index = new_faiss_index(vectors)
    manifest = Manifest(
        model=embedder.name,
        dim=dim,
        list_hash=list_hash(papers),
        ids=tuple(p.id for p in papers),
        text_hashes=tuple(hashes),
        index_type=index_description(index),
    )
    store.save(manifest, vectors, index)
    report = BuildReport(
        entries=len(papers),
        embedded=len(todo),
        reused=len(papers) - len(todo),
        seconds=time.perf_counter() - started,
    )
    return StoredIndex(manifest, vectors, index), report


def _embed_in_batches(
    embedder: Embedder, texts: Sequence[str], progress: Progress | None
) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    parts = []
    if progress:
        progress(0, len(texts))
    for start in range(0, len(texts), BATCH):
        parts.append(embedder.embed(texts[start : start + BATCH]))
        if progress:
            progress(min(start + BATCH, len(texts)), len(texts))
    return np.vstack(parts)
