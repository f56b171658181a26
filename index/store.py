"""Persistence of the index: the only module in ``index`` that touches the disk.

Layout of an index directory::

    CURRENT              name of the generation in use (replaced atomically)
    gen-<stamp>/         manifest.json, vectors.npy, index.faiss
    .lock                held while a build writes

A build writes a whole new generation, then switches ``CURRENT`` with one ``os.replace``;
an interrupted build leaves the previous generation in use and a stray folder to sweep.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock, Timeout

from secml_papers.corpus.errors import IndexProblem

FORMAT_VERSION = 1
_CURRENT = "CURRENT"


@dataclass(frozen=True)
class Manifest:
    """What an index was built from; compared with the list and model in use."""

    model: str
    dim: int
    list_hash: str
    ids: tuple[str, ...]
    text_hashes: tuple[str, ...]
    version: int = FORMAT_VERSION
    built_at: float = field(default_factory=time.time)
    index_type: str = "IndexFlatIP"

    def to_json(self) -> str:
        data = {
            "version": self.version,
            "model": self.model,
            "dim": self.dim,
            "list_hash": self.list_hash,
            "built_at": self.built_at,
            "index_type": self.index_type,
            "entries": [
                {"id": i, "text_hash": h} for i, h in zip(self.ids, self.text_hashes, strict=True)
            ],
        }
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        entries = data["entries"]
        return cls(
            model=str(data["model"]),
            dim=int(data["dim"]),
            list_hash=str(data["list_hash"]),
            ids=tuple(str(e["id"]) for e in entries),
            text_hashes=tuple(str(e["text_hash"]) for e in entries),
            version=int(data["version"]),
            built_at=float(data["built_at"]),
            index_type=str(data.get("index_type", "IndexFlatIP")),
        )


@dataclass(frozen=True)
class StoredIndex:
    manifest: Manifest
    vectors: np.ndarray
    faiss_index: faiss.Index


def new_faiss_index(vectors: np.ndarray) -> faiss.Index:
    """Exact inner product over normalised rows (cosine similarity)."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class IndexStore:
    """One index directory: load the generation in use, write a new one atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def load(self) -> StoredIndex | None:
        """The index in use, None when there is none; IndexProblem when it is unreadable."""
        current = self.directory / _CURRENT
        if not current.is_file():
            return None
        try:
            gen = self.directory / current.read_text().strip()
            manifest = Manifest.from_json((gen / "manifest.json").read_text())
            vectors = np.load(gen / "vectors.npy", allow_pickle=False)
            index = faiss.deserialize_index(np.load(gen / "index.faiss.npy", allow_pickle=False))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
            raise IndexProblem(
                f"the index in {self.directory} is unreadable ({type(err).__name__}); "
                "run `secml-papers build` to rebuild it"
            ) from err
        if manifest.version != FORMAT_VERSION:
            raise IndexProblem(
                f"the index in {self.directory} has format {manifest.version}, "
                f"this version reads {FORMAT_VERSION}; run `secml-papers build`"
            )
        if vectors.shape != (len(manifest.ids), manifest.dim) or index.ntotal != len(vectors):
            raise IndexProblem(
                f"the index in {self.directory} is inconsistent (its files disagree on the "
                "number of entries); run `secml-papers build` to rebuild it"
            )
        return StoredIndex(manifest, vectors, index)

    def save(self, manifest: Manifest, vectors: np.ndarray, index: faiss.Index) -> None:
        """Write a new generation beside the old one, then switch to it in one step."""
        self.directory.mkdir(parents=True, exist_ok=True)
        gen = Path(tempfile.mkdtemp(prefix="gen-", dir=self.directory))
        try:
            _write_atomic(gen / "vectors.npy", _npy_bytes(vectors))
            _write_atomic(gen / "index.faiss.npy", _npy_bytes(faiss.serialize_index(index)))
            _write_atomic(gen / "manifest.json", manifest.to_json().encode())
            _fsync_dir(gen)
            _write_atomic(self.directory / _CURRENT, gen.name.encode())
        except OSError as err:
            shutil.rmtree(gen, ignore_errors=True)
            raise IndexProblem(
                f"could not write the index to {self.directory} ({err.strerror or err}); "
                "the previous index is untouched"
            ) from err
        self._sweep(keep=gen.name)

    def lock(self, timeout: float = 600) -> FileLock:
        """A lock held while building, so two builds never interleave."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.directory / ".lock"), timeout=timeout)

    def _sweep(self, keep: str) -> None:
        for old in self.directory.glob("gen-*"):
            if old.name != keep and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["IndexStore", "Manifest", "StoredIndex", "Timeout", "new_faiss_index"]
