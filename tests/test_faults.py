"""Corrupt, truncated or foreign index files, a full disk, a read-only index directory.

Each gives one clear sentence and no traceback: an IndexProblem from the library, one
``error:`` line and exit 2 from the command line, a 503 with a one-sentence detail over HTTP.
A failed write leaves the old index as it was; with auto-build on (the default) a damaged
index is rebuilt, and nothing outside the index directory is ever deleted.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from secml_papers.corpus.errors import IndexProblem
from secml_papers.index.stores import store as store_module
from secml_papers.index.stores.store import IndexStore
from secml_papers.service import cli
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve

ROOT = Path(__file__).resolve().parent.parent
DIM = 64
TOKEN = "full-disk-token"
CLI = cli.app
NEW_ENTRY = '- Doe et al. [**"Quokka Sentinels"**](https://example.org/q) @ **ICML 2024**.\n'


def settings(base: Path, **extra: object) -> Settings:
    return Settings(index_dir=base / "index", data_dir=base / "data", **extra)


def generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def left(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name not in ("CURRENT", ".lock"))


def one_sentence(text: str) -> bool:
    return "\n" not in text.strip() and ". " not in text and "Traceback" not in text


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def edit_manifest(index_dir: Path, **changes: object) -> None:
    path = generation(index_dir) / "manifest.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps({k: v for k, v in data.items() if v is not None}))


def unchecked(change: Callable[[Path], None]) -> Callable[[Path], None]:
    """A manifest without checksums (as an older build wrote them), then ``change``."""

    def corrupt(index_dir: Path) -> None:
        edit_manifest(index_dir, sha256=None)
        change(generation(index_dir))

    return corrupt


def pickled(gen: Path) -> None:
    np.save(gen / "vectors.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated vectors": (
        lambda d: truncate(generation(d) / "vectors.npy"),
        "vectors.npy does not match its checksum",
    ),
    "truncated faiss index": (
        lambda d: truncate(generation(d) / "index.faiss.npy"),
        "index.faiss.npy does not match its checksum",
    ),
    "garbage vectors": (
        lambda d: (generation(d) / "vectors.npy").write_bytes(os.urandom(3000)),
        "vectors.npy does not match its checksum",
    ),
    "manifest not json": (
        lambda d: (generation(d) / "manifest.json").write_text("{not json"),
        "its manifest is damaged (JSONDecodeError)",
    ),
    "manifest empty": (
        lambda d: (generation(d) / "manifest.json").write_text(""),
        "its manifest is damaged",
    ),
    "another format version": (
        lambda d: edit_manifest(d, version=2),
        "written in format 2 and this version reads format 1",
    ),
    "another model": (
        lambda d: edit_manifest(d, model="other-model"),
        "built with other-model, not fake-bag-of-words",
    ),
    "foreign vectors, no checksums": (
        unchecked(lambda g: np.save(g / "vectors.npy", np.zeros((3, 7), np.float32))),
        "its files disagree on the number or size of entries",
    ),
    "pickled vectors, no checksums": (unchecked(pickled), "vectors.npy is damaged (ValueError)"),
    "truncated faiss index, no checksums": (
        unchecked(lambda g: truncate(g / "index.faiss.npy")),
        "index.faiss.npy is damaged",
    ),
    "an array that is no faiss index, no checksums": (
        unchecked(lambda g: np.save(g / "index.faiss.npy", np.arange(99, dtype=np.uint8))),
        "index.faiss.npy is damaged (RuntimeError)",
    ),
    "a data file missing": (
        lambda d: (generation(d) / "vectors.npy").unlink(),
        "but vectors.npy is missing",
    ),
    "CURRENT names a missing generation": (
        lambda d: (d / "CURRENT").write_text("gen-gone"),
        "CURRENT names gen-gone, but its folder is missing",
    ),
    "CURRENT names a path outside": (
        lambda d: (d / "CURRENT").write_text("../outside"),
        "CURRENT does not name a generation folder",
    ),
    "CURRENT not text": (
        lambda d: (d / "CURRENT").write_bytes(b"\xff\xfe gen-\x00"),
        "CURRENT cannot be read",
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pristine")
    Library(settings(base), FakeEmbedder(DIM)).index()
    return base / "index"


@pytest.fixture(scope="module")
def broken_url(tmp_path_factory: pytest.TempPathFactory):
    """A server whose index is replaced by each case; it never loaded one, so it tries each time."""
    base = tmp_path_factory.mktemp("served")
    library = Library(settings(base, auto_build=False), FakeEmbedder(DIM))
    with serve(create_app(library)) as url:
        yield url, base


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """The command line's own edge, ``main()``, with the fake embedder."""
    monkeypatch.setattr(cli, "app", lambda: CLI(args=list(args), obj={"embedder": fake()}))
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0), capsys.readouterr().err


def fake() -> FakeEmbedder:
    return FakeEmbedder(DIM)


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_index_is_one_clear_sentence_then_rebuilt(
    case: str, pristine: Path, broken_url, monkeypatch, capsys
) -> None:
    url, base = broken_url
    index_dir = base / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(pristine, index_dir)
    outside = base / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "keep.txt").write_text("not the index's")
    corrupt, fragment = CASES[case]
    corrupt(index_dir)

    with pytest.raises(IndexProblem) as raised:
        Library(settings(base, auto_build=False), fake()).index()
    assert fragment in str(raised.value) and one_sentence(str(raised.value))

    data = str(base / "data")
    monkeypatch.setenv("SECML_PAPERS_DATA_DIR", data)
    code, err = run_cli(monkeypatch, capsys, "--index-dir", str(index_dir), "--no-build", "papers")
    assert code == 0  # reading the list needs no index
    code, err = run_cli(
        monkeypatch, capsys, "--index-dir", str(index_dir), "--no-build", "search", "backdoor"
    )
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert fragment in " ".join(err.split())

    answer = httpx.get(f"{url}/search", params={"q": "backdoor"}, timeout=60)
    assert answer.status_code == 503
    detail = answer.json()["detail"]
    assert fragment in detail and one_sentence(detail) and str(base) not in detail

    notes: list[str] = []
    rebuilt = Library(settings(base), fake(), notify=notes.append)
    assert len(rebuilt.index().search("backdoor", k=3)) == 3
    assert any("rebuild" in note for note in notes)
    assert left(index_dir) == [generation(index_dir).name]
    assert (outside / "keep.txt").read_text() == "not the index's"


def test_a_build_sweeps_its_own_leftovers_and_nothing_else(tmp_path: Path) -> None:
    Library(settings(tmp_path), fake()).index()
    index_dir = tmp_path / "index"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (index_dir / "gen-killed").mkdir()
    (index_dir / "gen-killed" / ".vectors.npy.x1").write_bytes(b"half")
    (index_dir / ".CURRENT.x2").write_text("gen-killed")
    (index_dir / "gen-link").symlink_to(outside, target_is_directory=True)
    (index_dir / "notes.txt").write_text("someone's notes")
    Library(settings(tmp_path), fake()).build()
    assert left(index_dir) == sorted([generation(index_dir).name, "gen-link", "notes.txt"])
    assert (outside / "keep.txt").read_text() == "mine"


def test_a_full_disk_keeps_the_old_index(
    tmp_path: Path, bundled_text: str, monkeypatch, capsys
) -> None:
    list_path = tmp_path / "list.md"
    list_path.write_text(bundled_text)
    config = settings(tmp_path, list_source=str(list_path), admin_token=TOKEN)
    library = Library(config, fake())
    library.index()
    index_dir = tmp_path / "index"
    before = IndexStore(index_dir).load()
    list_path.write_text(bundled_text.rstrip("\n") + "\n\n" + NEW_ENTRY)
    real_write = store_module._write_atomic

    def full(path: Path, data: bytes) -> None:
        if path.name == "index.faiss.npy":  # vectors.npy got written: a half generation
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, data)

    monkeypatch.setattr(store_module, "_write_atomic", full)
    expected = "(the disk is full); the previous index is untouched"
    with pytest.raises(IndexProblem, match=expected.replace("(", r"\(").replace(")", r"\)")):
        Library(config, fake()).build()
    monkeypatch.setenv("SECML_PAPERS_DATA_DIR", str(tmp_path / "data"))
    code, err = run_cli(
        monkeypatch, capsys, "--list", str(list_path), "--index-dir", str(index_dir), "build"
    )
    lines = [line for line in err.splitlines() if line.strip()]  # the progress bar leaves a blank
    assert code == 2 and len(lines) == 1 and expected in lines[0]
    with serve(create_app(library)) as url:
        answer = httpx.post(
            f"{url}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )
        assert answer.status_code == 503 and expected in answer.json()["detail"]
        assert one_sentence(answer.json()["detail"])
        assert httpx.get(f"{url}/search", params={"q": "quokka"}, timeout=60).status_code == 200
        assert httpx.get(f"{url}/health", timeout=60).json()["papers"] == 27
    after = IndexStore(index_dir).load()
    assert after is not None and before is not None
    assert after.generation == before.generation and after.manifest == before.manifest
    assert np.array_equal(after.vectors, before.vectors)
    assert left(index_dir) == [before.generation]  # the half generation was removed


# Run in a private mount namespace (root) or after chmod (others): see _in_namespace.
SCRIPT = """
import json, sys
from pathlib import Path
from tests.conftest import FakeEmbedder
from secml_papers.corpus.errors import IndexProblem
from secml_papers.index.stores.store import IndexStore
from secml_papers.service import cli
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

index_dir, first, second, data = (Path(a) for a in sys.argv[1:5])
out = {}
def library(path):
    return Library(Settings(list_source=str(path), index_dir=index_dir, data_dir=data),
                   FakeEmbedder(256))
out["hits"] = len(library(first).index().search("backdoor", k=3))  # builds or just loads
before = IndexStore(index_dir).load()
try:
    library(second).index()
except IndexProblem as err:
    out["library"] = str(err)
real = cli.app
argv = ["--list", str(second), "--index-dir", str(index_dir), "search", "backdoor"]
cli.app = lambda: real(args=argv, obj={"embedder": FakeEmbedder(256)})
try:
    cli.main()
except SystemExit as exited:
    out["exit"] = exited.code
after = IndexStore(index_dir).load()
out["same"] = after.generation == before.generation and after.manifest == before.manifest
out["left"] = sorted(p.name for p in index_dir.iterdir())
print(json.dumps(out))
"""


def _in_namespace(mount: str, index_dir: Path, *args: Path) -> subprocess.CompletedProcess:
    """Run SCRIPT with ``index_dir`` on a tiny tmpfs or read-only, visible to that process only."""
    command = [sys.executable, "-c", SCRIPT, str(index_dir), *map(str, args)]
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.skip("needs unshare(1) to mount a file system for one process")
        shell = f'{mount} && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", shell, "sh", *command]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 and "mount" in result.stderr and "Traceback" not in result.stderr:
        pytest.skip(f"cannot mount here: {result.stderr.strip()[:200]}")
    return result


def test_a_really_full_disk(tmp_path: Path, bundled_text: str) -> None:
    """A 2 MB tmpfs: the bundled list's index fits, a list of 1,500 entries does not."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the monkeypatched test covers the rest)")
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    first.write_text(bundled_text)
    lines = [
        f'- A{i} et al. [**"Backdoor paper number {i}"**](https://e.org/{i}) @ **ICML 2021**.'
        for i in range(1500)
    ]
    second.write_text("# Big\n\n## Papers\n\n" + "\n".join(lines) + "\n")
    mount = f"mount -t tmpfs -o size=2m tmpfs {index_dir}"
    result = _in_namespace(mount, index_dir, first, second, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["hits"] == 3 and out["exit"] == 2 and out["same"]
    assert "(the disk is full); the previous index is untouched" in out["library"]
    assert one_sentence(out["library"])
    assert "error: could not write the index" in result.stderr
    assert len([n for n in out["left"] if n.startswith("gen-")]) == 1


def test_a_read_only_index_directory(tmp_path: Path, bundled_text: str) -> None:
    """Searching a fresh index works; a stale one cannot be rebuilt: one clear error."""
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    first.write_text(bundled_text)
    second.write_text(bundled_text.rstrip("\n") + "\n\n" + NEW_ENTRY)
    index_dir = tmp_path / "index"
    Library(
        Settings(list_source=str(first), index_dir=index_dir, data_dir=tmp_path / "data"),
        FakeEmbedder(256),
    ).index()
    before = sorted(p.name for p in index_dir.iterdir())
    mount = f"mount --bind {index_dir} {index_dir} && mount -o remount,bind,ro {index_dir}"
    if os.geteuid() != 0:
        index_dir.chmod(0o555)
    try:
        result = _in_namespace(mount, index_dir, first, second, tmp_path / "data")
    finally:
        index_dir.chmod(0o755)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["hits"] == 3 and out["exit"] == 2 and out["same"]
    assert "(the directory is read-only); the previous index is untouched" in out["library"]
    assert one_sentence(out["library"])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "read-only" in errors[0] and "Traceback" not in result.stderr
    assert sorted(p.name for p in index_dir.iterdir()) == before
