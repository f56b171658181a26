"""Building, persisting, reusing and searching the index, with the fake embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from secml_papers.corpus import parse_list
from secml_papers.corpus.errors import IndexProblem, InputError, NotFound
from secml_papers.index.build import build_index, embed_in_chunks
from secml_papers.index.search.paper_index import Filters, PaperIndex
from secml_papers.index.stores import store as store_module
from secml_papers.index.stores.store import IndexStore
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings


def _build(text: str, embedder, directory: Path, previous=None):
    parsed = parse_list(text)
    return build_index(parsed.papers, embedder, IndexStore(directory), previous)


def test_rebuild_embeds_only_what_changed(bundled_text, fake_embedder, tmp_path) -> None:
    store = IndexStore(tmp_path)
    _, first = _build(bundled_text, fake_embedder, tmp_path)
    assert (first.entries, first.embedded, first.reused) == (27, 27, 0)
    _, again = _build(bundled_text, fake_embedder, tmp_path, store.load())
    assert (again.embedded, again.reused) == (0, 27)
    edited = bundled_text.replace("Neural Cleanse: Identifying", "Neural Cleanse: Finding")
    _, one = _build(edited, fake_embedder, tmp_path, store.load())
    assert (one.entries, one.embedded, one.reused) == (27, 1, 26)
    loaded = store.load()
    assert loaded is not None and loaded.faiss_index.ntotal == 27
    assert len(list(tmp_path.glob("gen-*"))) == 1  # old generations are swept


def test_chunks_go_longest_first_and_rows_come_back_in_order(fake_embedder) -> None:
    texts = [" ".join(f"w{j}" for j in range(i * 7 % 150)) or "x" for i in range(150)]
    chunks: list[list[str]] = []

    class Recording:
        name, dim = fake_embedder.name, fake_embedder.dim

        def embed(self, batch):
            chunks.append(list(batch))
            return fake_embedder.embed(batch)

    seen: list[tuple[int, int]] = []
    vectors = embed_in_chunks(Recording(), texts, lambda done, total: seen.append((done, total)))
    assert np.allclose(vectors, fake_embedder.embed(texts), atol=1e-6)  # rows in input order
    assert [len(c) for c in chunks] == [64, 64, 22]
    assert sorted(chunks[0], key=len) == sorted(texts, key=len)[-64:]  # the longest first
    assert seen == [(0, 150), (64, 150), (128, 150), (150, 150)]


def test_vectors_follow_ids_across_reordering(bundled_text, fake_embedder, tmp_path) -> None:
    stored, _ = _build(bundled_text, fake_embedder, tmp_path)
    lines = bundled_text.splitlines()
    lines[15], lines[17] = lines[17], lines[15]  # swap two defense papers
    parsed = parse_list("\n".join(lines))
    index = PaperIndex(parsed.papers, parsed.sections, stored, fake_embedder)
    for paper, vector in zip(index.papers, index.vectors, strict=True):
        assert np.allclose(vector, fake_embedder.embed([paper.title])[0], atol=1e-6)


def test_model_change_rebuilds_everything(bundled_text, fake_embedder, tmp_path) -> None:
    library = Library(Settings(index_dir=tmp_path), fake_embedder)
    library.index()

    class OtherModel(type(fake_embedder)):
        name = "another-model"

    other = Library(Settings(index_dir=tmp_path), OtherModel(dim=32))
    index = other.index()
    assert other.last_build is not None and other.last_build.embedded == 27
    assert index.vectors.shape == (27, 32)
    assert IndexStore(tmp_path).load().manifest.model == "another-model"


def test_missing_or_corrupt_index_without_build_is_one_clear_error(fake_embedder, tmp_path) -> None:
    settings = Settings(index_dir=tmp_path, auto_build=False)
    with pytest.raises(IndexProblem, match="missing; run `secml-papers build`"):
        Library(settings, fake_embedder).index()
    Library(Settings(index_dir=tmp_path), fake_embedder).index()
    generation = (tmp_path / "CURRENT").read_text().strip()
    (tmp_path / generation / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(IndexProblem, match="unreadable"):
        Library(settings, fake_embedder).index()
    rebuilt = Library(Settings(index_dir=tmp_path), fake_embedder)
    assert len(rebuilt.index().papers) == 27  # the default rebuilds it
    assert rebuilt.last_build is not None and rebuilt.last_build.embedded == 27


def test_interrupted_build_leaves_previous_index(
    bundled_text, fake_embedder, tmp_path, monkeypatch
) -> None:
    _build(bundled_text, fake_embedder, tmp_path)
    before = IndexStore(tmp_path).load()
    real_write = store_module._write_atomic

    def failing_write(path: Path, data: bytes) -> None:
        if path.name == "manifest.json":
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(store_module, "_write_atomic", failing_write)
    edited = bundled_text.replace("FLAME", "FLAME 2")
    with pytest.raises(IndexProblem, match="previous index is untouched"):
        _build(edited, fake_embedder, tmp_path, before)
    monkeypatch.undo()
    after = IndexStore(tmp_path).load()
    assert after.manifest == before.manifest
    assert len(list(tmp_path.glob("gen-*"))) == 1


@pytest.fixture
def index(fake_library: Library) -> PaperIndex:
    return fake_library.index()


def test_filters(index: PaperIndex) -> None:
    hits = index.search("backdoor defense", k=100, filters=Filters(section="backdoor attacks"))
    assert hits and all(h.paper.section[1] == "Backdoor Attacks" for h in hits)
    path = Filters(section="Security of ML Models > Adversarial Attacks/Defense Papers")
    assert {h.paper.section[-1] for h in index.search("robustness", 100, path)} == {
        "Defense Papers"
    }
    years = index.search("backdoor", 100, Filters(year_min=2022, year_max=2023))
    assert years and all(2022 <= h.paper.year <= 2023 for h in years)
    venue = index.search("backdoor", 100, Filters(venue="cvpr"))
    assert {h.paper.venue for h in venue} == {"CVPR"}
    assert index.search("x", 5, Filters(section="Membership Inference Attacks")) == []
    ranked = index.search("backdoor", 5)
    assert len(ranked) == 5 and [h.score for h in ranked] == sorted(
        (h.score for h in ranked), reverse=True
    )


def test_bad_searches(index: PaperIndex) -> None:
    with pytest.raises(NotFound, match="no section matches 'Quantum'"):
        index.search("backdoor", 5, Filters(section="Quantum"))
    with pytest.raises(InputError, match="empty"):
        index.search("   ", 5)
    with pytest.raises(InputError, match="limit is 1000"):
        index.search("a" * 1001, 5)
    for k in (0, 101):
        with pytest.raises(InputError, match="between 1 and 100"):
            index.search("backdoor", k)
    with pytest.raises(InputError, match="after year_max"):
        index.search("backdoor", 5, Filters(year_min=2024, year_max=2020))


def test_find_paper_forgives_case_punctuation_and_prefixes(index: PaperIndex) -> None:
    nc = index.find_paper("neural cleanse")
    assert nc.title.startswith("Neural Cleanse: Identifying")
    assert index.find_paper(nc.id) == nc
    assert index.find_paper("FLAME taming backdoors").title.startswith("FLAME")
    assert index.find_paper("Are Adversarial Examples Inevitable").year == 2019
    with pytest.raises(InputError, match="matches 2 papers"):
        index.find_paper("Backdoor Defense via")
    with pytest.raises(NotFound, match="closest titles are: 'Neural Cleanse"):
        index.find_paper("Neural Cleanser identifies backdoors")


def test_related_excludes_the_paper_itself(index: PaperIndex) -> None:
    paper, hits = index.related("Neural Cleanse", k=5)
    assert len(hits) == 5 and paper.id not in {h.paper.id for h in hits}
    by_hand = index.related_to_text("Neural Cleanse for backdoor attacks", None, k=3)
    assert by_hand[0].paper.title.startswith(("Neural Cleanse", "Interpretation-Empowered"))
