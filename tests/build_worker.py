"""A build in its own process, for the tests that kill builds or run two at once.

``python -m tests.build_worker INDEX_DIR LIST [--dim N] [--hold] [--cli DATA_DIR]``

It imports and parses first, prints the list's hash and ``ready``, and waits for a line on
stdin, so a test's kill lands in the build, not in the imports. Then it builds as the
Library does (load, lock, load again, embed what changed, write, switch, sweep) with a
hashed bag-of-words embedder, printing a marker with a monotonic time stamp as it enters each
step (``load``, ``locked``, ``embed``, ``presweep``, ``write <file>``, ``switch``, ``sweep``,
``done``): the last marker a killed worker printed tells which step the kill interrupted.
``--hold`` waits for another stdin line once it holds the lock, so a test can start a second
build while the first holds it; ``--cli`` builds through the command line's ``main()``
instead (one line and exit 2 on errors). Only the index modules are imported otherwise, to
keep the start-up of the many workers a test runs short.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from secml_papers.corpus.parse import parse_list
from secml_papers.index.build import build_index, list_hash
from secml_papers.index.stores import store as store_module
from secml_papers.index.stores.store import IndexStore, Timeout

_WORD = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """The tests' fake embedder (see conftest.FakeEmbedder), without conftest's imports."""

    name = "fake-bag-of-words"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not self.calls:
            mark("embed")
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


def mark(name: str) -> None:
    sys.stdout.write(f"{name} {time.monotonic():.6f}\n")
    sys.stdout.flush()


def instrument(hold: bool) -> None:
    """Wrap the store's steps so each says when it starts."""
    write, sweep, lock = store_module._write_atomic, IndexStore._sweep, IndexStore.lock
    state = {"locked": False, "switched": False}

    def marked_write(path: Path, data: bytes) -> None:
        if path.name == "CURRENT":
            state["switched"] = True
        mark("switch" if path.name == "CURRENT" else f"write {path.name}")
        write(path, data)

    def marked_sweep(self: IndexStore, keep: str | None) -> None:
        mark("sweep" if state["switched"] else "presweep")
        sweep(self, keep)

    def marked_lock(self: IndexStore, timeout: float = 600):
        try:
            acquired = lock(self, timeout)
        except Timeout:
            mark("waiting")
            raise
        if not state["locked"]:
            state["locked"] = True
            mark("locked")
            if hold:
                mark("holding")
                sys.stdin.readline()
        return acquired

    store_module._write_atomic = marked_write
    IndexStore._sweep = marked_sweep  # type: ignore[method-assign]
    IndexStore.lock = marked_lock  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("list", type=Path)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--cli", action="store_true")
    args = parser.parse_args()
    embedder = HashEmbedder(args.dim)
    if args.cli:
        from secml_papers.service import cli

        argv = ["--list", str(args.list), "--index-dir", str(args.index_dir), "build"]
        run = cli.app
        cli.app = lambda: run(args=argv, obj={"embedder": embedder})  # type: ignore[assignment]
    else:
        papers = parse_list(args.list.read_text()).papers
        mark(f"hash {list_hash(papers)}")
    instrument(args.hold)
    mark("ready")
    sys.stdin.readline()
    mark("go")
    if args.cli:
        cli.main()
        return
    store = IndexStore(args.index_dir)
    mark("load")
    store.load()
    with store.lock():
        mark("load")
        build_index(papers, embedder, store, store.load())
    mark("done")


if __name__ == "__main__":
    main()
