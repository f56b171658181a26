"""The vector-store interface: FAISS and Milvus Lite give the same answers on the bundled list.

The Milvus tests need pymilvus and milvus-lite (the ``test`` extra installs them); they skip
only when those are missing. Both stores search exactly (FAISS flat, Milvus FLAT / IP), so
the same query must return the same ids; ties (equal scores) may come in either order.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from secml_papers.corpus import parse_list
from secml_papers.corpus.errors import IndexProblem, InputError, NotFound
from secml_papers.index.search.paper_index import Filters, Hit
from secml_papers.index.stores.vectorstore import Where, section_runs
from secml_papers.service.api import create_app
from secml_papers.service.checkpr import check_pr
from secml_papers.service.library import Library, open_store
from secml_papers.service.settings import Settings

QUERIES = [
    "certified robustness via randomized smoothing",
    "backdoor defenses in federated learning",
    "membership inference attacks",
    "adversarial examples",
    "malware detection",
    "no such words here zzzz",
]
FILTERS = [
    Filters(),
    Filters(section="Backdoor Attacks"),
    Filters(section="Backdoor Attacks > Defense Papers"),
    Filters(section="defense papers"),
    Filters(year_min=2021),
    Filters(year_max=2019),
    Filters(year_min=2019, year_max=2022),
    Filters(venue="neurips"),
    Filters(venue="S&P"),
    Filters(section="Adversarial Attacks", year_min=2018, venue="iclr"),
]
CRAFTED = ['" or id != "', "%", "_", "\\", '") or (1 == 1', "\n", "ü", "' or ''='"]


def _settings(root: Path, store: str) -> Settings:
    return Settings(index_dir=root / store, store=store, milvus_uri=str(root / "milvus.db"))


def _milvus_ok() -> None:
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")


@pytest.fixture
def stores(tmp_path: Path, fake_embedder) -> dict[str, Library]:
    _milvus_ok()
    return {s: Library(_settings(tmp_path, s), fake_embedder) for s in ("faiss", "milvus")}


def assert_same(a: list[Hit], b: list[Hit]) -> None:
    """Same scores rank by rank; the same ids within each group of equal scores, but for the
    last group, which k may cut anywhere among papers tied there."""
    assert len(a) == len(b)
    sa, sb = [round(h.score, 4) for h in a], [round(h.score, 4) for h in b]
    assert np.allclose(sa, sb, atol=2e-4)
    groups_a: dict[float, set[str]] = defaultdict(set)
    groups_b: dict[float, set[str]] = defaultdict(set)
    for hit, score in zip(a, sa, strict=True):
        groups_a[score].add(hit.paper.id)
    for hit, score in zip(b, sb, strict=True):
        groups_b[score].add(hit.paper.id)
    for score, ids in groups_a.items():
        if score != sa[-1]:
            assert ids == groups_b[score]


def test_section_runs_are_every_contiguous_run() -> None:
    runs = section_runs(["1. Security of ML 🔥", "Backdoor Attacks", "Defense Papers"])
    assert "security of ml > backdoor attacks > defense papers" in runs
    assert "backdoor attacks > defense papers" in runs and "defense papers" in runs
    assert "security of ml > defense papers" not in runs and len(runs) == 6


def test_dense_and_related_agree_on_both_stores(stores: dict[str, Library]) -> None:
    faiss_index, milvus_index = stores["faiss"].index(), stores["milvus"].index()
    assert milvus_index.searcher is not None and faiss_index.searcher is None
    compared = 0
    for query in QUERIES:
        for filters in FILTERS:
            for k in (1, 5, 27):
                a = faiss_index.search(query, k, filters, mode="dense")
                b = milvus_index.search(query, k, filters, mode="dense")
                assert_same(a, b)
                compared += 1
    for paper in faiss_index.papers:
        _, a = faiss_index.related(paper.id, k=5)
        _, b = milvus_index.related(paper.id, k=5)
        assert_same(a, b)
        assert paper.id not in {h.paper.id for h in b}
    assert compared == len(QUERIES) * len(FILTERS) * 3
    for mode in ("hybrid", "bm25"):  # read the loaded vectors: the same on both
        a = faiss_index.search(QUERIES[1], 10, mode=mode)
        assert [h.paper.id for h in a] == [
            h.paper.id for h in milvus_index.search(QUERIES[1], 10, mode=mode)
        ]


def test_filters_are_pushed_down_and_cannot_be_widened(stores: dict[str, Library]) -> None:
    milvus_index = stores["milvus"].index()
    for text in CRAFTED:
        hits = milvus_index.search("attacks", 27, Filters(venue=text), mode="dense")
        wanted = text.casefold().strip()
        expected = [p for p in milvus_index.papers if wanted in (p.venue or "").casefold()]
        assert {h.paper.id for h in hits} == {p.id for p in expected}
    s_and_p = milvus_index.search("attacks", 27, Filters(venue="S&P"), mode="dense")
    assert s_and_p and all("s&p" in h.paper.venue.casefold() for h in s_and_p)
    with pytest.raises(NotFound):
        milvus_index.search("x", 3, Filters(section='" or 1==1 or "'), mode="dense")
    with pytest.raises(InputError, match="after year_max"):
        milvus_index.search("x", 3, Filters(year_min=2022, year_max=2020), mode="dense")
    from secml_papers.index.stores.milvus_schema import expression

    expr = expression(Where(venue='a"b%', exclude=frozenset({'x" or "1'})))
    assert expr == '(venue like "%a\\"b\\\\%%") and (id not in ["x\\" or \\"1"])'


def test_api_and_check_pr_agree_on_both_stores(stores: dict[str, Library], bundled_text) -> None:
    answers = {}
    for name, library in stores.items():
        with TestClient(create_app(library)) as http:
            some = library.index().papers[3].id
            answers[name] = [
                http.get("/search", params={"q": QUERIES[1], "k": 5}).json(),
                http.get("/search", params={"q": QUERIES[2], "mode": "dense", "k": 3}).json(),
                http.get(f"/papers/{some}/related", params={"k": 4}).json(),
                http.post("/categorize", json={"title": "Backdoor attacks on LLMs"}).json(),
            ]
        head = bundled_text.replace(
            "### Membership Inference Attacks\n",
            "### Membership Inference Attacks\n\n- A et al. "
            '[**"Membership inference on diffusion models"**](https://arxiv.org/abs/2301.00001)'
            " @ **ICLR 2024**.\n",
        )
        answers[name].append(check_pr(library, bundled_text, head).to_dict())
    assert _untied(answers["faiss"]) == _untied(answers["milvus"])


def _untied(value):
    """Result lists with each group of equal scores as a set, the last group (cut by k) as
    its score only: the order among ties is the one thing the two stores may differ in."""
    if isinstance(value, dict):
        return {key: _untied(v) for key, v in value.items()}
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and "score" in v for v in value)
    ):
        groups: dict[float, set[str]] = defaultdict(set)
        for hit in value:
            groups[hit["score"]].add(hit["id"])
        last = value[-1]["score"]
        return [(score, None if score == last else ids) for score, ids in groups.items()]
    if isinstance(value, list):
        return [_untied(v) for v in value]
    return value


def test_incremental_milvus_build_upserts_only_changes(
    tmp_path: Path, fake_embedder, bundled_text
) -> None:
    _milvus_ok()
    from secml_papers.index.build import build_index

    settings = _settings(tmp_path, "milvus")
    store = open_store(settings)
    papers = parse_list(bundled_text).papers
    _, report = build_index(papers, fake_embedder, store)
    assert (report.embedded, store.count()) == (27, 27)
    upserts: list[int] = []
    real = store.upsert
    store.upsert = lambda entries: (upserts.append(len(entries)), real(entries))[1]
    edited = parse_list(
        bundled_text.replace("Neural Cleanse: Identifying", "Neural Cleanse: Finding")
    ).papers
    moved = [p for p in edited if p.id != edited[0].id]  # one removed, one edited
    _, again = build_index(moved, fake_embedder, store, store.load())
    assert (again.embedded, again.reused, upserts, store.count()) == (1, 25, [1], 26)
    loaded = store.load()
    assert loaded is not None and loaded.manifest.ids == tuple(p.id for p in moved)
    from secml_papers.index.build import is_fresh

    assert is_fresh(loaded, moved, fake_embedder.name)
    # a paper moved to another section: same text, new filter fields, so stale and upserted
    shifted = [
        p if p.id != moved[0].id else type(p)(**{**p.__dict__, "section": ("Elsewhere",)})
        for p in moved
    ]
    assert not is_fresh(loaded, shifted, fake_embedder.name)
    build_index(shifted, fake_embedder, store, loaded)
    assert upserts == [1, 1]


def test_model_change_rebuilds_the_collection(tmp_path: Path, fake_embedder) -> None:
    _milvus_ok()
    Library(_settings(tmp_path, "milvus"), fake_embedder).index()

    class OtherModel(type(fake_embedder)):
        name = "another-model"

    other = Library(_settings(tmp_path, "milvus"), OtherModel(dim=32))
    index = other.index()
    assert other.last_build is not None and other.last_build.embedded == 27
    assert index.vectors.shape == (27, 32) and other.store.count() == 27
    again = Library(_settings(tmp_path, "milvus"), OtherModel(dim=32))
    again.index()
    assert again.last_build is None  # fresh: loaded, not rebuilt
    hits = again.index().search("backdoor", 3, mode="dense")
    assert np.isclose(hits[0].score, float(index.search("backdoor", 1, mode="dense")[0].score))


def test_store_mistakes_are_one_sentence(tmp_path: Path, fake_embedder) -> None:
    with pytest.raises(InputError, match="unknown store 'redis'"):
        open_store(Settings(index_dir=tmp_path, store="redis"))
    _milvus_ok()
    with pytest.raises(InputError, match="neither an http"):
        open_store(Settings(index_dir=tmp_path, store="milvus", milvus_uri=str(tmp_path / "x")))
    down = Settings(index_dir=tmp_path, store="milvus", milvus_uri="http://127.0.0.1:9")
    said: list[str] = []
    with pytest.raises(IndexProblem, match="unreachable") as caught:
        Library(down, fake_embedder, said.append).index()
    assert "\n" not in str(caught.value) and not any("rebuilding" in m for m in said)


def test_settings_read_the_store_from_the_environment(tmp_path: Path) -> None:
    env = {"SECML_PAPERS_STORE": "milvus", "SECML_PAPERS_MILVUS_URI": "http://h:19530"}
    settings = Settings.from_env(env)
    assert (settings.store, settings.milvus_uri) == ("milvus", "http://h:19530")
    assert Settings.from_env({}).store == "faiss"
    assert "secret" not in repr(Settings(milvus_token="secret"))


@pytest.mark.real_model
def test_real_model_answers_the_same_on_milvus(real_library: Library, real_embedder, tmp_path):
    """The shipped model: same ids and scores on both stores (real scores rarely tie)."""
    _milvus_ok()
    milvus = Library(_settings(tmp_path, "milvus"), real_embedder).index()
    faiss_index = real_library.index()
    for query in QUERIES:
        for filters in FILTERS[:8]:
            a = faiss_index.search(query, 10, filters, mode="dense")
            b = milvus.search(query, 10, filters, mode="dense")
            assert [h.paper.id for h in a] == [h.paper.id for h in b]
            assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
    for paper in faiss_index.papers:
        _, a = faiss_index.related(paper.id, k=10)
        _, b = milvus.related(paper.id, k=10)
        assert [h.paper.id for h in a] == [h.paper.id for h in b]
