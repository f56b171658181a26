"""The Milvus store: the same index in a Milvus collection, for lists past one process.

One collection per list (named from the list key). Each row holds the vector and the fields a
filter reads, so filters run inside Milvus as scalar expressions (``milvus_schema.py``), and a
build upserts only the rows that changed.

What the collection cannot say (the model and dimension) sits in ``milvus-manifest.json`` in
the index directory; the list fingerprint is recomputed from the rows themselves at load, so a
build killed half way reads as stale and the next build resumes from the rows already there.
Consistency is Strong: a search right after a build sees all of it (docs/deploy.md).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from filelock import AcquireReturnProxy

from secml_papers.corpus.atomic import SHARED, write_atomic
from secml_papers.corpus.errors import IndexProblem, InputError
from secml_papers.corpus.records import Paper
from secml_papers.index.stores.milvus_schema import (
    INDEX_PARAMS,
    SEARCH_PARAMS,
    collection_layout,
    expression,
    to_row,
)
from secml_papers.index.stores.store import IndexStore, Manifest
from secml_papers.index.stores.vectorstore import Entry, StoreUnreachable, Where, pairs_hash

SIDECAR = "milvus-manifest.json"
BATCH = 1000


def collection_name(list_key: str) -> str:
    """Milvus names allow letters, digits and underscores, starting with a letter."""
    return "secml_" + re.sub(r"[^A-Za-z0-9_]", "_", list_key)[:200]


@dataclass(frozen=True)
class MilvusSnapshot:
    manifest: Manifest
    vectors: np.ndarray
    generation: str
    rows_hash: str | None
    store: MilvusStore

    def bind(self, papers: Sequence[Paper]) -> MilvusSearcher:
        return MilvusSearcher(self.store, {p.id for p in papers})


class MilvusSearcher:
    def __init__(self, store: MilvusStore, known: set[str]) -> None:
        self.store, self.known = store, known

    def search(self, vector: np.ndarray, k: int, where: Where) -> list[tuple[str, float]]:
        """Rows another build added since this reader loaded are not its papers: skipped."""
        found = self.store.search(vector, k, expression(where))
        return [(pid, score) for pid, score in found if pid in self.known]


class MilvusStore:
    """A Milvus Lite file (a path ending in .db) or a Milvus server / cluster (http://...)."""

    kind = "milvus"

    def __init__(
        self,
        uri: str,
        directory: Path,
        collection: str,
        token: str | None = None,
        index_type: str = "FLAT",
    ) -> None:
        if index_type not in INDEX_PARAMS:
            raise InputError(f"unknown Milvus index type {index_type!r}")
        lite = not re.match(r"^(https?|tcp|unix)://", uri)
        if lite and not uri.endswith(".db"):
            raise InputError(
                f"SECML_PAPERS_MILVUS_URI {uri!r} is neither an http:// address nor a "
                "Milvus Lite file ending in .db"
            )
        self.uri = str(Path(uri).expanduser().resolve()) if lite else uri
        self.lite, self.token, self.index_type = lite, token, index_type
        self.directory, self.collection = Path(directory), collection
        self._client: Any = None
        self._files = IndexStore(self.directory)  # for its lock only

    @property
    def location(self) -> str:
        return f"Milvus {self.uri} (collection {self.collection})"

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                from pymilvus import MilvusClient
            except ImportError as err:
                raise InputError(
                    "the Milvus store needs pymilvus and milvus-lite: "
                    "pip install 'secml-papers[milvus]'"
                ) from err
            if self.lite:
                Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
                _quiet_lite_logs()
            self._client = self._call(
                lambda: MilvusClient(self.uri, token=self.token or "", timeout=30)
            )
        return self._client

    def _call(self, action):
        try:
            return action()
        except (InputError, IndexProblem):
            raise
        except Exception as err:  # pymilvus raises MilvusException and grpc errors alike
            reason = str(getattr(err, "message", "") or err).splitlines()[0][:200]
            raise StoreUnreachable(f"{self.location} is unreachable or failed: {reason}") from err

    def lock(self, timeout: float = 600) -> AcquireReturnProxy:
        return self._files.lock(timeout=timeout)

    def load(self) -> MilvusSnapshot | None:
        meta = self._read_sidecar()
        if meta is None or not self._call(lambda: self.client.has_collection(self.collection)):
            return None
        self._call(lambda: self.client.load_collection(self.collection))
        rows = {r["id"]: r for r in self._rows(["id", "vector", "text_hash", "row_hash"])}
        order = [i for i in meta["ids"] if i in rows] + sorted(set(rows) - set(meta["ids"]))
        dim = int(meta["dim"])
        vectors = np.zeros((len(order), dim), dtype=np.float32)
        for n, pid in enumerate(order):
            vectors[n] = np.asarray(rows[pid]["vector"], dtype=np.float32)
        hashes = tuple(rows[i]["text_hash"] for i in order)
        manifest = Manifest(
            model=meta["model"],
            dim=dim,
            list_hash=pairs_hash(list(zip(order, hashes, strict=True))),
            ids=tuple(order),
            text_hashes=hashes,
            built_at=float(meta.get("built_at", 0.0)),
            index_type=f"milvus:{self.index_type}",
        )
        rows_hash = pairs_hash([(i, rows[i]["row_hash"]) for i in order])
        generation = f"milvus-{meta.get('built_at', 0)}"
        return MilvusSnapshot(manifest, vectors, generation, rows_hash, self)

    def begin(self, model: str, dim: int) -> None:
        """Start a build: a new model or dimension empties the collection first."""
        meta = self._read_sidecar()
        exists = self._call(lambda: self.client.has_collection(self.collection))
        if exists and (meta is None or meta["model"] != model or int(meta["dim"]) != dim):
            self._call(lambda: self.client.drop_collection(self.collection))
            exists = False
        if not exists:
            self._create(dim)
        self._call(lambda: self.client.load_collection(self.collection))
        keep = meta if meta and meta["model"] == model else {"ids": []}
        self._write_sidecar({**keep, "model": model, "dim": dim})

    def existing(self) -> dict[str, str]:
        return {r["id"]: r["row_hash"] for r in self._rows(["id", "row_hash"])}

    def upsert(self, entries: Sequence[Entry]) -> None:
        for start in range(0, len(entries), BATCH):
            rows = [to_row(e) for e in entries[start : start + BATCH]]
            self._call(lambda rows=rows: self.client.upsert(self.collection, rows))

    def delete(self, ids: Collection[str]) -> None:
        listed = sorted(ids)
        for start in range(0, len(listed), BATCH):
            chunk = listed[start : start + BATCH]
            self._call(lambda chunk=chunk: self.client.delete(self.collection, ids=chunk))

    def persist(self, manifest: Manifest, entries: Sequence[Entry]) -> MilvusSnapshot:
        """Record the build in the manifest; the rows were upserted and deleted already."""
        built_at = round(time.time(), 6)
        self._call(lambda: self.client.flush(self.collection))
        meta = {"model": manifest.model, "dim": manifest.dim, "ids": list(manifest.ids)}
        self._write_sidecar({**meta, "built_at": built_at})
        vectors = np.zeros((len(entries), manifest.dim), dtype=np.float32)
        for row, entry in enumerate(entries):
            vectors[row] = entry.vector
        rows_hash = pairs_hash([(e.id, e.row_hash) for e in entries])
        stamped = replace(manifest, built_at=built_at, index_type=f"milvus:{self.index_type}")
        return MilvusSnapshot(stamped, vectors, f"milvus-{built_at}", rows_hash, self)

    def count(self) -> int:
        found = self._call(
            lambda: self.client.query(self.collection, filter="", output_fields=["count(*)"])
        )
        return int(found[0]["count(*)"])

    def search(self, vector: np.ndarray, k: int, expr: str) -> list[tuple[str, float]]:
        data = [np.asarray(vector, dtype=np.float32).tolist()]
        params = {"metric_type": "IP", "params": SEARCH_PARAMS[self.index_type]}
        found = self._call(
            lambda: self.client.search(
                self.collection, data=data, limit=k, filter=expr, search_params=params
            )
        )
        return [(str(hit["id"]), float(hit["distance"])) for hit in found[0]]

    def _create(self, dim: int) -> None:
        schema, index = collection_layout(self.client, dim, self.index_type)
        self._call(
            lambda: self.client.create_collection(
                self.collection, schema=schema, index_params=index, consistency_level="Strong"
            )
        )

    def _rows(self, fields: list[str]) -> Iterator[dict]:
        iterator = self._call(
            lambda: self.client.query_iterator(
                self.collection, batch_size=BATCH, filter="", output_fields=fields
            )
        )
        while batch := self._call(iterator.next):
            yield from batch
        iterator.close()

    def _read_sidecar(self) -> dict | None:
        try:
            meta = json.loads((self.directory / SIDECAR).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise IndexProblem(f"{self.directory / SIDECAR} is unreadable; rebuild") from err
        if meta.get("collection", self.collection) != self.collection:
            return None  # another list's manifest: this collection was never built here
        return meta

    def _write_sidecar(self, meta: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = {**meta, "uri": self.uri, "collection": self.collection}
        write_atomic(self.directory / SIDECAR, json.dumps(meta), SHARED)


def _quiet_lite_logs() -> None:
    """Milvus Lite lacks one call the query iterator tries first; it falls back by itself,
    but logs an error and a warning on every load, which would read as a failure."""
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
