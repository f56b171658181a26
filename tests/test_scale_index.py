"""Large indexes switch from exact search to IVF, keep their probe count, and filter exactly."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from secml_papers.index.search.ranking import fuse
from secml_papers.index.stores import faiss_index as store
from secml_papers.index.stores.faiss_index import index_description, new_faiss_index, search_rows
from secml_papers.index.stores.store import IndexStore, Manifest


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim))
    x = centres[rng.integers(0, 40, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EXACT_UP_TO", 500)


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray) -> list[int]:
    scores = vectors[rows] @ query
    return [int(rows[i]) for i in np.argsort(-scores, kind="stable")[:k]]


def test_small_lists_stay_exact(small_threshold: None) -> None:
    index = new_faiss_index(clustered(400))
    assert isinstance(index, faiss.IndexFlatIP) and index_description(index) == "IndexFlatIP"


def test_a_large_index_is_ivf_with_the_recall_it_was_tuned_for(small_threshold: None) -> None:
    data = clustered(4100)
    vectors, queries = data[:4000], data[4000:]  # queries from the same topics, not indexed
    index = new_faiss_index(vectors)
    assert isinstance(index, faiss.IndexIVFFlat)
    assert index_description(index) == f"IVF{index.nlist},Flat nprobe={index.nprobe}"
    every = np.arange(len(vectors), dtype=np.int64)
    found = 0
    for q in queries:
        _, rows = search_rows(index, vectors, q, 10, every)
        found += len(set(rows.tolist()) & set(exact_top(vectors, q, 10, every)))
    assert found / 1000 >= 0.9


def test_filtered_searches_on_ivf_are_exact_over_the_allowed_rows(small_threshold: None) -> None:
    vectors = clustered(4000)
    index = new_faiss_index(vectors)
    allowed = np.arange(0, 4000, 37, dtype=np.int64)  # a narrow filter: 109 rows
    for q in clustered(20, seed=2):
        scores, rows = search_rows(index, vectors, q, 10, allowed)
        assert rows.tolist() == exact_top(vectors, q, 10, allowed)
        assert np.allclose(scores, vectors[rows] @ q, atol=1e-5)


def test_the_probe_count_survives_a_save_and_load(small_threshold: None, tmp_path: Path) -> None:
    vectors = clustered(3000)
    index = new_faiss_index(vectors)
    index.nprobe = 23
    ids = tuple(f"p{i}" for i in range(len(vectors)))
    manifest = Manifest(
        model="m",
        dim=vectors.shape[1],
        list_hash="h",
        ids=ids,
        text_hashes=ids,
        index_type=index_description(index),
    )
    IndexStore(tmp_path).save(manifest, vectors, index)
    loaded = IndexStore(tmp_path).load()
    assert loaded is not None and faiss.extract_index_ivf(loaded.faiss_index).nprobe == 23
    assert loaded.manifest.index_type.endswith("nprobe=23")


def _big_list(n: int) -> str:
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(400)]
    lines = ["# Big list", ""]
    for s in range(4):
        lines += [f"## Section {s}", ""]
        for i in range(s, n, 4):
            title = " ".join(rng.choice(words, 6, replace=False)).capitalize() + f" number {i}"
            lines.append(f"- **[{title}](https://example.org/{i})** (Venue {2015 + i % 10})")
        lines.append("")
    return "\n".join(lines)


def test_hybrid_on_an_ivf_index_fuses_candidates_and_keeps_filters(
    small_threshold: None, tmp_path: Path, fake_embedder
) -> None:
    from secml_papers.corpus import parse_list
    from secml_papers.index.build import build_index
    from secml_papers.index.search.paper_index import Filters, PaperIndex

    parsed = parse_list(_big_list(2000))
    stored, _ = build_index(parsed.papers, fake_embedder, IndexStore(tmp_path))
    index = PaperIndex(parsed.papers, parsed.sections, stored, fake_embedder)
    assert isinstance(index.faiss_index, faiss.IndexIVF)
    exact = 0
    for paper in parsed.papers[::100]:
        hits = index.search(paper.title, 10)
        assert hits[0].paper.id == paper.id  # its own title: first by both methods
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        # against fusing over every entry (what an exact index does)
        vector = fake_embedder.embed([paper.title])[0]
        everything = np.ones(len(index.papers), dtype=bool)
        full = fuse(index.vectors @ vector, index.lexical.scores(paper.title), everything)
        exact += hits[0].paper.id == index.papers[int(np.argmax(full))].id
    assert exact == 20
    inside = next(p for p in parsed.papers[::-1] if p.section == ("Section 1",))
    outside = parsed.papers[0]
    assert outside.section != inside.section
    only = index.search(inside.title, 10, Filters(section="Section 1"))
    assert only[0].paper.id == inside.id
    assert len(only) == 10 and all(h.paper.section == ("Section 1",) for h in only)
    assert outside.id not in {
        h.paper.id for h in index.search(outside.title, 10, Filters(section="Section 1"))
    }
