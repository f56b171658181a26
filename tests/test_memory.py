"""service/memory.py: a trim returns freed heap pages, and a reload trims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secml_papers.service import memory
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings
from tests.conftest import FakeEmbedder

PROBE = """
import os
from secml_papers.service import memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
blocks = [bytes(2000) for _ in range(100_000)]  # 200 MB in malloc's heap, not pymalloc's
kept = blocks[::10]  # every tenth stays: the heap cannot shrink from its top
del blocks
before = rss()
memory.release()
print(before, rss())
"""


@pytest.mark.skipif(memory._LIBC is None, reason="glibc's malloc_trim is not there")
def test_release_hands_freed_pages_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    before, after = map(int, done.stdout.split())
    assert before > 150 and after < before - 100, (before, after)


def test_a_reload_that_swaps_the_state_trims(tmp_path: Path, bundled_text: str, monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "release", lambda: calls.append(1) or True)
    path = tmp_path / "list.md"
    path.write_text(bundled_text)
    settings = Settings(
        list_source=str(path), index_dir=tmp_path / "index", data_dir=tmp_path / "data"
    )
    library = Library(settings, FakeEmbedder(), notify=lambda _: None)
    library.index()
    library.reload()  # nothing changed: the same state stays, nothing to hand back
    assert calls == []
    path.write_text(bundled_text.replace("Neural Cleanse", "Neural Cleanse Again", 1))
    report = library.reload()
    assert report.papers == 27 and calls == [1]
