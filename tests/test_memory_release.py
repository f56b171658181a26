"""What a long-running server hands back (service/memory.py): large blocks as they are freed,
the pages a /check-pr freed, and the first index once a reload replaced it (serve keeps no
reference to it)."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import httpx
import pytest

from secml_papers.service import memory
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings
from tests.conftest import FakeEmbedder
from tests.servers import serve

ANCHOR = "### Membership Inference Attacks\n"
ADDED = (
    '- Tester et al. [**"Synthetic Attack on Learned Models"**]'
    "(https://example.org/paper/synthetic) @ **ICML 2024**.\n"
)

MAPPED = """
import ctypes, sys
from secml_papers.service import memory
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "fixed":
    memory.fix_mmap_threshold()
libc.free(libc.malloc(8 << 20))  # a list-sized array freed: glibc's threshold rises past it
before = libc.mallinfo2().hblkhd
block = libc.malloc(4 << 20)
print(libc.mallinfo2().hblkhd - before >= 4 << 20)  # mapped on its own, so unmapped on free
"""


@pytest.mark.skipif(memory._LIBC is None, reason="glibc's mallopt is not there")
def test_with_the_threshold_fixed_a_large_block_stays_out_of_the_heap() -> None:
    def mapped(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", MAPPED, mode], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    # glibc's own behaviour first (the threshold rose), then the server's setting
    assert (mapped("glibc"), mapped("fixed")) == ("False", "True")


def test_a_check_pr_hands_the_freed_pages_back_after_answering(
    tmp_path: Path, bundled_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(memory, "release", lambda: calls.append(1) or True)
    library = Library(Settings(index_dir=tmp_path / "index"), FakeEmbedder())
    _ = library.categorizer
    head = bundled_text.replace(ANCHOR, ANCHOR + ADDED, 1)
    with serve(create_app(library)) as url:
        assert httpx.get(f"{url}/search", params={"q": "backdoor"}).status_code == 200
        assert calls == []  # a search allocates little: no trim
        answer = httpx.post(
            f"{url}/check-pr", json={"base": bundled_text, "head": head}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 10  # a background task: run once the answer is sent
        while not calls and time.monotonic() < deadline:
            time.sleep(0.02)
    assert calls == [1]


def test_serve_keeps_no_reference_to_the_index_a_reload_replaced(
    tmp_path: Path, bundled_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from secml_papers.service.cli import app

    path = tmp_path / "list.md"
    path.write_text(bundled_text)
    obj: dict = {"embedder": FakeEmbedder()}
    seen: dict = {}

    def run(_asgi, **_) -> None:  # instead of the server: a reload while serve() still runs
        library: Library = obj["library"]
        _ = library.categorizer  # the fit serve started in the background is done
        for thread in threading.enumerate():
            if thread.name == "fit-categorizer":
                thread.join(30)
        first = weakref.ref(library.loaded_index)
        path.write_text(bundled_text.replace(ANCHOR, ANCHOR + ADDED, 1))
        seen["papers"] = library.reload().papers
        gc.collect()
        seen["first index alive"] = first() is not None

    monkeypatch.setattr(uvicorn, "run", run)
    args = ["--list", str(path), "--index-dir", str(tmp_path / "idx"), "serve"]
    result = CliRunner().invoke(app, args, obj=obj)
    assert result.exit_code == 0, result.output
    assert seen == {"papers": 28, "first index alive": False}
