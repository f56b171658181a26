"""Shared fixtures: a tiny deterministic fake embedder, one real model per session, a server."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from secml_papers.corpus.storage import read_list
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

_WORD = re.compile(r"[a-z0-9]+")

# The tests never see the developer's own caches: an abstracts file that `enrich` wrote for
# the bundled list, or a downloaded list, would change what the real-model tests assert.
# platformdirs follows XDG_*, and CLI subprocesses inherit these.
_HOME = tempfile.mkdtemp(prefix="secml-tests-")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "data")
os.environ["XDG_CACHE_HOME"] = os.path.join(_HOME, "cache")
for _var in [v for v in os.environ if v.startswith("SECML_PAPERS_")]:
    os.environ.pop(_var)  # a developer's settings (list, model, index dir) stay out too


class FakeEmbedder:
    """Hashed bag of words: texts sharing words are close, texts sharing none are orthogonal."""

    name = "fake-bag-of-words"

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim
        self.calls: list[int] = []

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self._dim
                out[row, bucket] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def bundled_text() -> str:
    return read_list(None).text


@pytest.fixture
def fake_library(tmp_path: Path, fake_embedder: FakeEmbedder) -> Library:
    return Library(Settings(index_dir=tmp_path / "index"), fake_embedder)


@pytest.fixture(scope="session")
def real_embedder():
    from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real-index")


@pytest.fixture(scope="session")
def real_library(real_embedder, real_index_dir: Path) -> Library:
    library = Library(Settings(index_dir=real_index_dir), real_embedder)
    library.index()
    return library


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server_url(real_library: Library) -> Iterator[str]:
    """The real app on the bundled list, served by uvicorn on 127.0.0.1 for this session."""
    from .servers import serve

    with serve(create_app(real_library)) as url:
        yield url
