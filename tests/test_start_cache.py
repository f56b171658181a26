"""The start-up cache (service/start_cache.py, library_cache.py): used on the second start,
never stale, a damaged file computed again, and the same answers with it as without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from secml_papers.index.stores.store import IndexStore
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings
from secml_papers.service.start_cache import MAGIC, StartCache, key_of
from tests.conftest import FakeEmbedder

NEW_ENTRY = (
    "- **Quokka Poisoning: Backdoors in Marsupial Classifiers** (NeurIPS 2030) "
    "[[paper](https://e.org/quokka)]\n"
)
KINDS = ("parsed", "bm25", "categorizer")


def settings(tmp_path: Path, list_path: Path) -> Settings:
    return Settings(
        list_source=str(list_path), index_dir=tmp_path / "index", data_dir=tmp_path / "data"
    )


@pytest.fixture
def list_path(tmp_path: Path, bundled_text: str) -> Path:
    path = tmp_path / "list.md"
    path.write_text(bundled_text)
    return path


def caches(tmp_path: Path) -> dict[str, list[Path]]:
    found = {k: sorted((tmp_path / "index").glob(f"gen-*/{k}-*.pickle")) for k in KINDS}
    return found


def answers(library: Library) -> dict:
    index = library.index()
    return {
        "papers": [p.to_dict() for p in library.paper_list.papers],
        "search": [h.to_dict() for h in index.search("backdoor defenses", k=5)],
        "bm25": [h.to_dict() for h in index.search("certified smoothing", k=5, mode="bm25")],
        "categorize": library.categorizer.categorize("Pruning neurons against backdoors").to_dict(),
        "temperature": library.categorizer.temperature,
    }


def started(tmp_path: Path, list_path: Path, notes: list[str] | None = None) -> Library:
    notify = notes.append if notes is not None else print
    library = Library(settings(tmp_path, list_path), FakeEmbedder(), notify=notify)
    _ = library.categorizer
    return library


def test_the_second_start_uses_the_cache_and_answers_the_same(
    tmp_path: Path, list_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = started(tmp_path, list_path)
    kept = caches(tmp_path)
    assert all(len(kept[k]) == 1 for k in KINDS), kept
    fresh = answers(first)

    def never(what: str):
        def call(*_args, **_kwargs):
            raise AssertionError(f"{what} again although the cache holds it")

        return call

    monkeypatch.setattr("secml_papers.service.library_open.parse_list", never("parsed"))
    monkeypatch.setattr("secml_papers.index.categorize.categorizer.fit_calibrated", never("fitted"))
    monkeypatch.setattr("secml_papers.index.lexical.LexicalIndex.__init__", never("BM25 built"))
    notes: list[str] = []
    second = started(tmp_path, list_path, notes)
    assert not notes, notes
    assert answers(second) == fresh
    # the restored categorizer reads the index's own vectors: no second copy
    assert second.categorizer.vectors is second.index().vectors


def test_a_changed_list_or_index_is_never_answered_from_the_old_cache(
    tmp_path: Path, list_path: Path, bundled_text: str
) -> None:
    started(tmp_path, list_path)
    before = caches(tmp_path)
    list_path.write_text(bundled_text.rstrip("\n") + "\n\n" + NEW_ENTRY)
    changed = started(tmp_path, list_path)
    after = caches(tmp_path)
    assert all(
        a and a[0].parent != b[0].parent
        for a, b in zip(after.values(), before.values(), strict=True)
    )
    assert not before["parsed"][0].exists()  # swept with the old generation
    titles = [p.title for p in changed.paper_list.papers]
    assert any(t.startswith("Quokka Poisoning") for t in titles)
    top = changed.index().search("quokka marsupial", k=1, mode="bm25")[0]
    assert top.paper.title.startswith("Quokka Poisoning")
    # the same answers as a library that never saw a cache
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "list.md").write_text(list_path.read_text())
    assert answers(changed) == answers(started(bare, bare / "list.md"))


def test_a_move_between_sections_keeps_the_generation_but_not_the_fit(
    tmp_path: Path, list_path: Path, bundled_text: str
) -> None:
    started(tmp_path, list_path)
    store = IndexStore(tmp_path / "index")
    generation = store.current_generation()
    lines = bundled_text.splitlines(keepends=True)
    entries = [i for i, line in enumerate(lines) if line.startswith("- ")]
    moved = lines.pop(entries[1])  # an adversarial defense, moved to backdoor attacks
    backdoor = lines.index("### Backdoor Attacks\n")
    lines.insert(backdoor + 4, moved)
    list_path.write_text("".join(lines))
    again = started(tmp_path, list_path)
    title = moved.split('**"')[1].split('"**')[0]
    paper = [p for p in again.paper_list.papers if p.title == title]
    assert paper and paper[0].section == (
        "Security of ML Models",
        "Backdoor Attacks",
        "Attack Papers",
    )
    assert store.current_generation() == generation  # the same texts: the same vectors
    kept = caches(tmp_path)["categorizer"]
    assert len(kept) == 1 and kept[0].parent.name == generation  # the old fit replaced
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "list.md").write_text(list_path.read_text())
    assert answers(again) == answers(started(bare, bare / "list.md"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "foreign pickle"])
def test_a_damaged_cache_file_is_computed_again(
    tmp_path: Path, list_path: Path, kind: str, damage: str
) -> None:
    fresh = answers(started(tmp_path, list_path))
    path = caches(tmp_path)[kind][0]
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    elif damage == "garbage":
        path.write_bytes(b"not a cache at all")
    else:  # a well-formed file whose pickle would run a function: refused, not run
        key = data[len(MAGIC) :].split(b"\n", 1)[0].decode()
        StartCache(path.parent, print).save(kind, key, Evil(tmp_path / "pwned"))
    notes: list[str] = []
    again = started(tmp_path, list_path, notes)
    assert answers(again) == fresh
    assert any("ignoring the damaged cache" in n for n in notes), notes
    assert not (tmp_path / "pwned").exists()
    # and it was written again, whole
    notes.clear()
    assert answers(started(tmp_path, list_path, notes)) == fresh
    assert not any("damaged" in n for n in notes)


class Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (self.target,))


def test_a_read_only_index_folder_still_serves(
    tmp_path: Path, list_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import secml_papers.service.start_cache as start_cache

    def refuse(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    Library(settings(tmp_path, list_path), FakeEmbedder()).index()  # built, no caches yet
    for path in (tmp_path / "index").glob("gen-*/*.pickle"):
        path.unlink()
    monkeypatch.setattr(start_cache, "write_atomic", refuse)
    notes: list[str] = []
    library = started(tmp_path, list_path, notes)
    assert library.categorizer.categorize("backdoor").suggestions
    assert any("could not keep the" in n for n in notes)


def test_without_a_generation_folder_nothing_is_kept() -> None:
    cache = StartCache(None, print)
    assert cache.load("bm25", key_of("x")) is None and not cache.save("bm25", key_of("x"), 1)


def test_shared_arrays_are_references_not_copies(tmp_path: Path) -> None:
    vectors = np.arange(12.0).reshape(3, 4)
    cache = StartCache(tmp_path, print)
    assert cache.save("x", key_of("k"), {"v": vectors, "w": vectors[1]}, {"vectors": vectors})
    other = np.zeros((3, 4))
    found = cache.load("x", key_of("k"), {"vectors": other})
    assert found["v"] is other and found["w"].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert len((tmp_path / f"x-{key_of('k')[:32]}.pickle").read_bytes()) < 400


def test_code_changes_make_new_keys(tmp_path: Path) -> None:
    from secml_papers.service import start_cache

    module = tmp_path / "fake_module.py"
    module.write_text("A = 1\n")
    import importlib.util

    spec = importlib.util.spec_from_file_location("fake_module", module)
    assert spec and spec.loader
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    first = start_cache.code_fingerprint(loaded)
    module.write_text("A = 2\n")
    start_cache._fingerprints.clear()
    assert start_cache.code_fingerprint(loaded) != first
