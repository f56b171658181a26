"""Where vectors live: a small interface with a FAISS store (the default) and a Milvus store.

A build talks to a store through ``begin`` / ``existing`` / ``upsert`` / ``delete`` /
``persist``, so it can send a store only what changed: Milvus keeps rows of its own and is
updated row by row, while the FAISS store rewrites a whole generation through ``IndexStore``
(atomic, as before). A reader ``load``s a ``Snapshot`` (the manifest and every vector, which
hybrid search and the categorizer read) and searches through it with a ``Where``: the filter
is handed to the store, so Milvus evaluates it as a scalar expression next to the vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np
from filelock import AcquireReturnProxy

from secml_papers.corpus.errors import IndexProblem, InputError
from secml_papers.corpus.headings import heading_key
from secml_papers.corpus.ids import normalise_title
from secml_papers.corpus.records import Paper
from secml_papers.index.stores.faiss_index import index_description, new_faiss_index, search_rows
from secml_papers.index.stores.store import IndexStore, Manifest, StoredIndex

STORES = ("faiss", "milvus")
RUN_SEP = " > "


@dataclass(frozen=True)
class Entry:
    """One row as a store keeps it: the vector and what filters read."""

    id: str
    vector: np.ndarray
    text_hash: str
    section: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None

    @property
    def row_hash(self) -> str:
        """Changes when anything stored changes; the vector follows ``text_hash``."""
        return row_hash(self.text_hash, self.section, self.year, self.venue)


def row_hash(text_hash: str, section: Sequence[str], year: int | None, venue: str | None) -> str:
    data = f"{text_hash}\0{RUN_SEP.join(section)}\0{year}\0{venue or ''}"
    return hashlib.sha1(data.encode()).hexdigest()[:16]


def pairs_hash(pairs: Sequence[tuple[str, str]]) -> str:
    """A fingerprint of (id, hash) pairs, whatever their order: the manifest's ``list_hash``."""
    digest = hashlib.sha1()
    for pid, h in sorted(pairs):
        digest.update(f"{pid}\0{h}\n".encode())
    return digest.hexdigest()[:16]


def normalised_path(section: Sequence[str]) -> list[str]:
    """Headings as ``search.section_matches`` compares them."""
    return [normalise_title(heading_key(h)) for h in section]


def section_runs(section: Sequence[str]) -> list[str]:
    """Every contiguous run of the normalised path, joined: what a section filter can match.

    >>> section_runs(["Attacks", "Backdoor"])
    ['attacks', 'attacks > backdoor', 'backdoor']
    """
    path = normalised_path(section)
    runs = {RUN_SEP.join(path[i:j]) for i in range(len(path)) for j in range(i + 1, len(path) + 1)}
    return sorted(runs)


@dataclass(frozen=True)
class Where:
    """A search filter in store terms: normalised headings, a year range, a casefolded venue."""

    section: tuple[str, ...] | None = None
    year_min: int | None = None
    year_max: int | None = None
    venue: str = ""
    exclude: frozenset[str] = field(default_factory=frozenset)

    def matches(self, paper: Paper) -> bool:
        """The same test as the Milvus expression, for stores that filter in Python."""
        if paper.id in self.exclude:
            return False
        if self.section is not None and not _contains_run(self.section, paper.section):
            return False
        if self.year_min is not None and (paper.year is None or paper.year < self.year_min):
            return False
        if self.year_max is not None and (paper.year is None or paper.year > self.year_max):
            return False
        return not self.venue or self.venue in (paper.venue or "").casefold()


def _contains_run(run: Sequence[str], section: Sequence[str]) -> bool:
    path, n = normalised_path(section), len(run)
    return any(path[i : i + n] == list(run) for i in range(len(path) - n + 1))


class Searcher(Protocol):
    def search(self, vector: np.ndarray, k: int, where: Where) -> list[tuple[str, float]]:
        """Up to k (id, cosine score) pairs, best first, among the entries ``where`` lets in."""
        ...


class Snapshot(Protocol):
    """A loaded index: what it was built from, its vectors (rows in ``manifest.ids`` order)."""

    manifest: Manifest
    vectors: np.ndarray
    generation: str
    rows_hash: str | None  # None: the store keeps no filter fields, only texts matter

    def bind(self, papers: Sequence[Paper]) -> Searcher: ...


class VectorStore(Protocol):
    kind: str
    directory: Path  # the local folder of the index (FAISS files, or Milvus's manifest)

    @property
    def location(self) -> str: ...

    def load(self) -> Snapshot | None: ...
    def lock(self, timeout: float = 600) -> AcquireReturnProxy: ...
    def begin(self, model: str, dim: int) -> None: ...
    def existing(self) -> dict[str, str]: ...
    def upsert(self, entries: Sequence[Entry]) -> None: ...
    def delete(self, ids: Collection[str]) -> None: ...
    def persist(self, manifest: Manifest, entries: Sequence[Entry]) -> Snapshot: ...
    def count(self) -> int: ...


class StoreUnreachable(IndexProblem):
    """The store's server cannot be reached: rebuilding would not help, so say it once."""


def check_store(name: str) -> str:
    if name not in STORES:
        raise InputError(f"unknown store {name!r}; use one of {', '.join(STORES)}")
    return name


@dataclass(frozen=True)
class FaissSnapshot:
    stored: StoredIndex
    rows_hash: str | None = None

    @property
    def manifest(self) -> Manifest:
        return self.stored.manifest

    @property
    def vectors(self) -> np.ndarray:
        return self.stored.vectors

    @property
    def generation(self) -> str:
        return self.stored.generation

    @property
    def faiss_index(self) -> faiss.Index:
        return self.stored.faiss_index

    def bind(self, papers: Sequence[Paper]) -> FaissSearcher:
        return FaissSearcher(self.stored, papers)


class FaissSearcher:
    """Filters in Python over the list's papers, then an exact FAISS search on those rows."""

    def __init__(self, stored: StoredIndex, papers: Sequence[Paper]) -> None:
        rows = {pid: row for row, pid in enumerate(stored.manifest.ids)}
        self.stored = stored
        self.rows = [(rows[p.id], p) for p in papers]
        self.id_at_row = {row: p.id for row, p in self.rows}

    def search(self, vector: np.ndarray, k: int, where: Where) -> list[tuple[str, float]]:
        everything = where == Where()
        allowed = [row for row, p in self.rows if everything or where.matches(p)]
        if not allowed:
            return []
        rows = np.array(allowed, "int64")
        scores, found = search_rows(self.stored.faiss_index, self.stored.vectors, vector, k, rows)
        return [(self.id_at_row[int(r)], float(s)) for s, r in zip(scores, found, strict=True)]


class FaissStore:
    """The embedded default: one file set per generation, rewritten whole on every build.

    It keeps no rows to update one by one (``existing`` is empty, so upsert and delete have
    nothing to do); ``persist`` writes every entry as a new generation and a reader never
    sees half a build (IndexStore switches ``CURRENT`` atomically). Reused vectors still
    skip the model: the build takes them from the previous generation by text hash.
    """

    kind = "faiss"

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self.directory = store.directory

    @property
    def location(self) -> str:
        return str(self.directory)

    def load(self) -> FaissSnapshot | None:
        stored = self.store.load()
        return None if stored is None else FaissSnapshot(stored)

    def lock(self, timeout: float = 600) -> AcquireReturnProxy:
        return self.store.lock(timeout=timeout)

    def begin(self, model: str, dim: int) -> None:
        return None  # each build writes a new generation; nothing to empty

    def existing(self) -> dict[str, str]:
        return {}  # no rows kept one by one: so every entry reaches ``persist``

    def upsert(self, entries: Sequence[Entry]) -> None:
        return None  # the whole generation is written from ``persist``'s entries

    def delete(self, ids: Collection[str]) -> None:
        return None  # an entry left out of ``persist`` is gone from the new generation

    def persist(self, manifest: Manifest, entries: Sequence[Entry]) -> FaissSnapshot:
        vectors = np.zeros((len(entries), manifest.dim), dtype=np.float32)
        for row, entry in enumerate(entries):
            vectors[row] = entry.vector
        index = new_faiss_index(vectors)
        manifest = replace(manifest, index_type=index_description(index))
        generation = self.store.save(manifest, vectors, index)
        return FaissSnapshot(StoredIndex(manifest, vectors, index, generation))

    def count(self) -> int:
        stored = self.store.load()
        return 0 if stored is None else int(stored.faiss_index.ntotal)


def as_snapshot(stored: StoredIndex | Snapshot) -> Snapshot:
    """Callers (and tests) that hold a StoredIndex from ``IndexStore.load`` keep working."""
    return FaissSnapshot(stored) if isinstance(stored, StoredIndex) else stored


def as_store(store: IndexStore | VectorStore) -> VectorStore:
    return FaissStore(store) if isinstance(store, IndexStore) else store
