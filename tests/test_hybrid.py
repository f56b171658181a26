"""Search modes: BM25, dense and their fusion, with filters, on the fake embedder."""

from __future__ import annotations

import numpy as np
import pytest

from secml_papers.corpus.errors import InputError
from secml_papers.index.evaluation.known_item import known_item, paraphrase, queries_for
from secml_papers.index.lexical import LexicalIndex, tokenize
from secml_papers.index.search.paper_index import MODES, Filters, PaperIndex
from secml_papers.index.search.ranking import fuse
from secml_papers.service.library import Library


@pytest.fixture
def index(fake_library: Library) -> PaperIndex:
    return fake_library.index()


def test_bm25_stems_and_ignores_stop_words() -> None:
    assert tokenize(["The Backdoors of Networks"]) == [["backdoor", "network"]]
    lexical = LexicalIndex(["backdoor defense", "membership inference", "graph backdoor attack"])
    scores = lexical.scores("backdoors")
    assert scores[1] == 0 and scores[0] > 0 and scores[2] > 0
    assert not lexical.scores("the of").any()


def test_fusion_needs_both_signals() -> None:
    dense = np.array([0.9, 0.5, 0.1, 0.8])
    lexical = np.array([0.0, 3.0, 0.0, 2.5])
    allowed = np.array([True, True, True, False])
    fused = fuse(dense, lexical, allowed)
    assert fused[3] == -np.inf  # filtered out before ranking
    assert np.argmax(fused) == 1  # good on both beats best on one
    assert fused[:3].min() >= 0 and fused[:3].max() <= 1


def test_every_mode_keeps_filters_and_shapes(index: PaperIndex) -> None:
    for mode in MODES:
        hits = index.search("backdoor defense", 100, Filters(section="Backdoor Attacks"), mode)
        assert hits and all(h.paper.section[1] == "Backdoor Attacks" for h in hits), mode
        years = index.search("backdoor", 100, Filters(year_min=2022, year_max=2023), mode)
        assert years and all(2022 <= h.paper.year <= 2023 for h in years), mode
        venue = index.search("backdoor", 100, Filters(venue="cvpr"), mode)
        assert {h.paper.venue for h in venue} == {"CVPR"}, mode
        ranked = index.search("backdoor federated", 5, mode=mode)
        assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)
        assert set(ranked[0].to_dict()) >= {"id", "title", "section", "score"}


def test_hybrid_finds_a_rare_exact_word(index: PaperIndex) -> None:
    hits = index.search("GangSweep", 3, mode="hybrid")
    assert hits[0].paper.title.startswith("GangSweep")
    assert index.search("GangSweep", 3, mode="bm25")[0].paper.title.startswith("GangSweep")


def test_unknown_mode_is_a_user_error(index: PaperIndex) -> None:
    with pytest.raises(InputError, match="unknown search mode"):
        index.search("backdoor", 5, mode="semantic")


def test_paraphrase_rule() -> None:
    assert paraphrase("FLAME: Taming Backdoors in Federated Learning") == "taming backdoor training"
    assert paraphrase("Graph Backdoor") == "graph backdoors"


def test_known_item_figures(index: PaperIndex, fake_embedder) -> None:
    queries, source = queries_for(index.papers)
    assert source == "27 title paraphrases"
    found = {r.mode: r for r in known_item(index.papers, index.vectors, fake_embedder, queries)}
    assert set(found) == set(MODES)
    for r in found.values():
        assert r.queries == 27 and 0 <= r.mrr <= r.hit <= 1
    assert found["bm25"].hit > 0.8  # the paraphrase keeps most title words


def test_search_mode_over_http_and_cli(fake_library: Library) -> None:
    from fastapi.testclient import TestClient

    from secml_papers.service.api import create_app

    client = TestClient(create_app(fake_library))
    for mode in MODES:
        response = client.get("/search", params={"q": "backdoor", "k": 3, "mode": mode})
        assert response.status_code == 200 and len(response.json()["results"]) == 3
    assert client.get("/search", params={"q": "backdoor", "mode": "x"}).status_code == 422


def test_top_rows_is_a_stable_sort_cut_to_k() -> None:
    from secml_papers.index.search.ranking import top_rows

    rng = np.random.default_rng(3)
    for n, k in [(5, 10), (40, 10), (1000, 10), (1000, 1), (2000, 50)]:
        for _ in range(20):
            scores = rng.integers(0, 6, size=n).astype(np.float64)  # many ties
            scores[rng.random(n) < 0.3] = -np.inf
            expected = [int(i) for i in np.argsort(-scores, kind="stable")[:k]]
            assert top_rows(scores, k) == [i for i in expected if np.isfinite(scores[i])]
