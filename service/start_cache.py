"""What a start would otherwise compute again, kept in the index generation's own folder.

At 100,000 entries a start parsed the list (about 25 s), built the BM25 tables (a few
seconds) and fitted the categorizer (30 s to two minutes on 2 busy cores) every time, although
none of them changes until the list, the index or the code does. Each is kept in one file in
the folder of the generation it was computed on (``gen-<stamp>/``), so it is swept with that
generation, and named by a key that hashes everything it depends on: a file whose key differs
is never read, so a stale cache cannot be used.

A file is ``MAGIC``, the full key, the SHA-256 of the payload, then the payload: a pickle.
A file that is truncated, damaged or written by other code is ignored (with a warning) and
computed again, never trusted: the checksum is verified before anything is unpickled, and
the unpickler only builds instances of the classes of this package, NumPy, SciPy,
scikit-learn and bm25s, and builtin containers (``_SafeUnpickler``), never calls a function.

Large arrays the cached object shares with the index (the vectors, the papers, the model)
are not written: they are pickled as references (``shared``) and filled in on load, so the
restored object reads the same memory as the rest of the service, one copy of each array.
Writes are atomic (``corpus/atomic.py``) and best effort: a read-only index folder only costs
the next start the time it saves.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import platform
import sys
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from types import ModuleType

from secml_papers.corpus.atomic import SHARED, write_atomic

MAGIC = b"secml-papers start cache 1\n"
_SUFFIX = ".pickle"
_NUMPY = {
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
}
_BUILTINS = {"set", "frozenset", "slice", "complex", "bytearray", "range"}
# classes (only) of these packages: records, arrays, scalars, bm25s and scikit-learn tables
_CLASSES_FROM = {"secml_papers", "numpy", "scipy", "sklearn", "bm25s"}


class _SafeUnpickler(pickle.Unpickler):
    """Builds only data: classes of this package, NumPy, SciPy, scikit-learn and bm25s, and
    builtin containers; no function other than NumPy's array constructors."""

    def __init__(self, data: bytes, shared: Mapping[str, object]) -> None:
        super().__init__(io.BytesIO(data))
        self.shared = shared

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _NUMPY or (module == "builtins" and name in _BUILTINS):
            return super().find_class(module, name)
        if module.split(".")[0] not in _CLASSES_FROM:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache")
        found = super().find_class(module, name)
        if not isinstance(found, type):  # a class builds data; a function could do anything
            raise pickle.UnpicklingError(f"{module}.{name} is not a class")
        return found

    def persistent_load(self, pid: object) -> object:
        if not isinstance(pid, str) or pid not in self.shared:
            raise pickle.UnpicklingError(f"the cache refers to {pid!r}, which is not given")
        return self.shared[pid]


class _SharingPickler(pickle.Pickler):
    """Writes the objects of ``shared`` (by identity) as references to their names."""

    def __init__(self, file: io.BytesIO, shared: Mapping[str, object]) -> None:
        super().__init__(file, protocol=5)
        self.names = {id(obj): name for name, obj in shared.items()}

    def persistent_id(self, obj: object) -> str | None:
        return self.names.get(id(obj))


def dumps(value: object, shared: Mapping[str, object] | None = None) -> bytes:
    if not shared:
        return pickle.dumps(value, protocol=5)
    buffer = io.BytesIO()
    _SharingPickler(buffer, shared).dump(value)
    return buffer.getvalue()


def loads(data: bytes, shared: Mapping[str, object] | None = None) -> object:
    return _SafeUnpickler(data, shared or {}).load()


class StartCache:
    """The cache files of one generation folder; ``folder`` None keeps nothing."""

    def __init__(self, folder: Path | None, notify: Callable[[str], None]) -> None:
        self.folder = folder
        self.notify = notify

    def path(self, kind: str, key: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{kind}-{key[:32]}{_SUFFIX}"

    def has(self, kind: str, key: str) -> bool:
        path = self.path(kind, key)
        return path is not None and path.is_file()

    def load(self, kind: str, key: str, shared: Mapping[str, object] | None = None) -> object:
        """The value kept under ``key``, or None when there is none or it cannot be trusted."""
        path = self.path(kind, key)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None  # missing (the usual first start) or swept with its generation
        head = MAGIC + key.encode() + b"\n"
        digest = data[len(head) : len(head) + 64]
        payload = data[len(head) + 65 :]
        if (
            not data.startswith(head)
            or data[len(head) + 64 : len(head) + 65] != b"\n"
            or hashlib.sha256(payload).hexdigest().encode() != digest
        ):
            return self._damaged(path, "its checksum does not match")
        try:
            return loads(payload, shared)
        except Exception as err:  # any failure to rebuild the object: compute it again
            return self._damaged(path, f"{type(err).__name__}: {err}")

    def save(
        self, kind: str, key: str, value: object, shared: Mapping[str, object] | None = None
    ) -> bool:
        """Keep ``value`` under ``key`` (replacing the other keys of ``kind`` in the folder);
        False, with a warning, when the folder cannot be written."""
        path = self.path(kind, key)
        if path is None:
            return False
        payload = dumps(value, shared)
        data = MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode()
        try:
            write_atomic(path, data + b"\n" + payload, SHARED)
            for old in path.parent.glob(f"{kind}-*{_SUFFIX}"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as err:
            if path.parent.is_dir():  # a generation swept meanwhile is not worth a warning
                self.notify(f"warning: could not keep the {kind} cache in {path.parent} ({err})")
            return False
        return True

    def _damaged(self, path: Path, why: str) -> None:
        self.notify(f"warning: ignoring the damaged cache {path.name} ({why}); computing it again")
        return None


def key_of(*parts: object) -> str:
    """SHA-256 of the parts' text, each on its own line."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


def texts_key(texts: Iterable[str]) -> str:
    """SHA-256 of texts in order (a text cannot contain the separator, NUL, in a list)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


_fingerprints: dict[tuple[str, ...], str] = {}


def code_fingerprint(*modules: ModuleType, packages: Iterable[str] = ()) -> str:
    """What the cached object's code is: the files of ``modules`` (every file in a package's
    folder: its modules and data such as a fitted table), the versions of Python and of
    ``packages``. Any change to that code makes new keys."""
    names = tuple(m.__name__ for m in modules) + tuple(packages)
    found = _fingerprints.get(names)
    if found is not None:
        return found
    digest = hashlib.sha256(f"{sys.version}\0{platform.machine()}".encode())
    for module in modules:
        for path in _sources(module):
            digest.update(f"{module.__name__}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    for package in packages:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\0".encode())
    _fingerprints[names] = digest.hexdigest()
    return _fingerprints[names]


def _sources(module: ModuleType) -> list[Path]:
    if hasattr(module, "__path__"):  # a package: every file in its folders
        return sorted(
            p for folder in module.__path__ for p in Path(folder).iterdir() if p.is_file()
        )
    return [Path(str(module.__file__))]
