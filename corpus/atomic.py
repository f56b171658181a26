"""Replacing a file or a folder so that a crash leaves the old one or the new one, never half.

Every write that replaces something goes through here: the list cache, an index generation's
files and its ``CURRENT`` pointer, the Milvus manifest, the exported ONNX graph, an unpacked
model. The new content is staged under a temporary name in the target's own directory (a
rename across file systems is not atomic), fsynced, then renamed over the target with one
``os.replace``. A failure removes the staged file and leaves the target as it was; its
``OSError`` (disk full, read-only directory) is the caller's to translate into its own error.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE = 0o600  # what tempfile gives: for the user's own caches
SHARED = 0o644  # for files a server running as another user reads (the index)


@contextmanager
def atomic_path(path: Path, mode: int = PRIVATE) -> Iterator[Path]:
    """A fresh temporary path beside ``path`` for a writer that wants a file name; when the
    block ends without an error it is fsynced and renamed onto ``path``, else removed.

    The temporary name is ``.<name>.<random>.tmp``, so a sweep can recognise a crash's leftover.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    staged = Path(name)
    try:
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        yield staged
        _fsync(staged)
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str, mode: int = PRIVATE) -> None:
    """Replace ``path`` with ``data`` (a str as UTF-8) in one step."""
    with atomic_path(path, mode) as staged:
        staged.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def replace_folder(staged: Path, target: Path) -> None:
    """Move a folder built beside ``target`` (same file system) onto it in one rename, so a
    half-filled folder is never seen under the target's name, and make the rename durable."""
    os.replace(staged, target)
    fsync_dir(target.parent)


def fsync_dir(path: Path) -> None:
    """Make the entries of ``path`` durable: a renamed or new file is not, until its folder is."""
    _fsync(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
