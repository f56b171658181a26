"""Persistence of the index: the only module in ``index`` that touches the disk.

Layout of an index directory::

    CURRENT              name of the generation in use (replaced atomically)
    gen-<stamp>/         manifest.json, vectors.npy, index.faiss.npy
    .lock                held while a build writes

A build writes a whole new generation, then switches ``CURRENT`` with one ``os.replace``;
an interrupted build (even SIGKILL) leaves the previous generation in use and a stray folder
that the next build sweeps. The manifest records a SHA-256 of each data file, so a truncated
or overwritten file is caught before numpy or FAISS parse it (the files are hashed as
they stream past, then memory-mapped read-only: the vectors and the FAISS index's lists are
the page cache's pages, not a second copy in the process, and a file is never rewritten in
place, only replaced by a new generation).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from filelock import AcquireReturnProxy, FileLock, Timeout

from secml_papers.corpus.atomic import SHARED, fsync_dir, write_atomic
from secml_papers.corpus.errors import IndexProblem

FORMAT_VERSION = 1
_CURRENT = "CURRENT"
_GENERATION = re.compile(r"gen-[A-Za-z0-9_]+")
_DATA_FILES = ("vectors.npy", "index.faiss.npy")
_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError)


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
    checksums: Mapping[str, str] = field(default_factory=dict, compare=False)

    def to_json(self, checksums: Mapping[str, str] | None = None) -> str:
        data = {
            "version": self.version,
            "model": self.model,
            "dim": self.dim,
            "list_hash": self.list_hash,
            "built_at": self.built_at,
            "index_type": self.index_type,
            "sha256": dict(checksums if checksums is not None else self.checksums),
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
            checksums={str(k): str(v) for k, v in dict(data.get("sha256", {})).items()},
        )


@dataclass(frozen=True)
class StoredIndex:
    manifest: Manifest
    vectors: np.ndarray
    faiss_index: faiss.Index
    generation: str = ""


class IndexStore:
    """One index directory: load the generation in use, write a new one atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._filelock: FileLock | None = None

    def load(self) -> StoredIndex | None:
        """The index in use, None when there is none; IndexProblem when it is unreadable.

        A build in another process may switch ``CURRENT`` and sweep the generation this
        reader just chose; that shows as a vanished file, and the reader follows the pointer
        again instead of failing.
        """
        for _ in range(3):
            name = self.current_generation()
            if name is None:
                return None
            try:
                return self._read(name)
            except FileNotFoundError as err:
                if self.current_generation() != name:
                    continue  # switched and swept under us: read the new one
                gone = Path(err.filename or "a file").name
                what = gone if (self.directory / name).is_dir() else "its folder"
                raise self._unreadable(f"CURRENT names {name}, but {what} is missing") from err
        raise self._unreadable("it changed three times while being read; try again")

    def current_generation(self) -> str | None:
        """The name in ``CURRENT``, checked to be a generation folder of this directory."""
        try:
            name = (self.directory / _CURRENT).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeError) as err:
            raise self._unreadable(f"CURRENT cannot be read ({_reason(err)})") from err
        if not _GENERATION.fullmatch(name):
            raise self._unreadable("CURRENT does not name a generation folder")
        return name

    def save(self, manifest: Manifest, vectors: np.ndarray, index: faiss.Index) -> str:
        """Write a new generation beside the old one, switch to it in one step, return its name.

        Holds the build lock (re-entrant for the caller that already holds it), so no other
        process's half-written generation is ever swept.
        """
        with self.lock():
            self._sweep(keep=self._current_or_none())
            payload = {
                "vectors.npy": _npy_bytes(vectors),
                "index.faiss.npy": _npy_bytes(faiss.serialize_index(index)),
            }
            sums = {name: hashlib.sha256(data).hexdigest() for name, data in payload.items()}
            payload["manifest.json"] = manifest.to_json(sums).encode()
            gen: Path | None = None
            try:
                gen = Path(tempfile.mkdtemp(prefix="gen-", dir=self.directory))
                gen.chmod(0o755)  # readable by a server running as another user
                for name, data in payload.items():
                    _write_atomic(gen / name, data)
                fsync_dir(gen)
                fsync_dir(self.directory)  # the new folder's entry, before CURRENT names it
                _write_atomic(self.directory / _CURRENT, gen.name.encode())
                fsync_dir(self.directory)
            except OSError as err:
                if gen is not None:
                    shutil.rmtree(gen, ignore_errors=True)
                raise self._unwritable(err) from err
            self._sweep(keep=gen.name)
            return gen.name

    def lock(self, timeout: float = 600) -> AcquireReturnProxy:
        """The build lock, acquired: use it in a ``with``; Timeout when it stays held.

        An OS lock (flock), so a killed builder releases it with its last file descriptor.
        One FileLock per store keeps it re-entrant within a thread of this process.
        """
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self._filelock is None:
                self._filelock = FileLock(str(self.directory / ".lock"), fallback_to_soft=False)
            return self._filelock.acquire(timeout=timeout)
        except Timeout:
            raise
        except OSError as err:
            raise self._unwritable(err) from err

    def _read(self, name: str) -> StoredIndex:
        gen = self.directory / name
        try:
            manifest = Manifest.from_json((gen / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise
        except _READ_ERRORS as err:
            raise self._unreadable(f"its manifest is damaged ({_reason(err)})") from err
        if manifest.version != FORMAT_VERSION:
            raise self._unreadable(
                f"it was written in format {manifest.version} and this version reads "
                f"format {FORMAT_VERSION}"
            )
        arrays = []
        for filename in _DATA_FILES:
            path = gen / filename
            try:
                with path.open("rb") as handle:  # streamed: the file is never held in memory
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
            except FileNotFoundError:
                raise
            except OSError as err:
                raise self._unreadable(f"{filename} cannot be read ({_reason(err)})") from err
            expected = manifest.checksums.get(filename)
            if expected and digest != expected:
                raise self._unreadable(f"{filename} does not match its checksum (damaged)")
            try:
                # memory-mapped, read-only: the page cache's copy is the process's copy
                arrays.append(np.load(path, mmap_mode="r", allow_pickle=False))
            except FileNotFoundError:
                raise
            except _READ_ERRORS as err:
                raise self._unreadable(f"{filename} is damaged ({_reason(err)})") from err
        vectors, blob = arrays
        try:
            index = _faiss_over(blob)
        except _READ_ERRORS as err:
            raise self._unreadable(f"index.faiss.npy is damaged ({_reason(err)})") from err
        shape = (len(manifest.ids), manifest.dim)
        if (
            vectors.dtype != np.float32
            or vectors.shape != shape
            or index.ntotal != len(vectors)
            or index.d != manifest.dim
        ):
            raise self._unreadable("its files disagree on the number or size of entries")
        return StoredIndex(manifest, np.asarray(vectors), index, name)

    def _current_or_none(self) -> str | None:
        try:
            return self.current_generation()
        except IndexProblem:
            return None

    def _sweep(self, keep: str | None) -> None:
        """Remove other generations and temporary files; only ever inside this directory."""
        for path in self.directory.iterdir():
            if path.name == keep or path.is_symlink():
                continue
            if path.name.startswith("gen-") and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith(f".{_CURRENT}.") and path.is_file():
                path.unlink(missing_ok=True)

    def _unreadable(self, why: str) -> IndexProblem:
        return IndexProblem(
            f"the index in {self.directory} is unreadable: {why}; "
            "run `secml-papers build` to rebuild it"
        )

    def _unwritable(self, err: OSError) -> IndexProblem:
        return IndexProblem(
            f"could not write the index to {self.directory} ({_reason(err)}); "
            "the previous index is untouched"
        )


def _reason(err: BaseException) -> str:
    """A short cause without the file name (the message names the directory already)."""
    if isinstance(err, OSError):
        if err.errno == errno.ENOSPC:
            return "the disk is full"
        if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "the directory is read-only"
        return err.strerror or type(err).__name__
    return type(err).__name__


def _faiss_over(blob: np.ndarray) -> faiss.Index:
    """The FAISS index serialised in ``blob`` (a mapped file), reading its vectors in place
    where FAISS can (ZeroCopyIOReader, FAISS 1.10 and later), else copied."""
    blob = np.ascontiguousarray(blob, dtype=np.uint8)
    zero_copy = getattr(faiss, "ZeroCopyIOReader", None)
    if zero_copy is None or not blob.size:
        return faiss.deserialize_index(np.array(blob))
    index = faiss.read_index(zero_copy(faiss.swig_ptr(blob), blob.size), 0)
    index.referenced_objects = [blob]  # FAISS's own way: whoever holds the index holds blob
    return index


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    """Every file of the index, readable by a server running as another user (one name, so a
    test can fail one write)."""
    write_atomic(path, data, SHARED)


__all__ = ["IndexStore", "Manifest", "StoredIndex", "Timeout"]
