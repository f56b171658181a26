"""The categorizer's fit, with the fake embedder: reused by check-pr when BASE is the served
list, computed on a stratified sample above a size, and off the path of /search."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from fastapi.testclient import TestClient

from secml_papers.corpus.diff import diff_lists
from secml_papers.corpus.parse import parse_list
from secml_papers.index.categorize import placement, training
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.categorize.placement import place_added
from secml_papers.index.categorize.probe import Design, RidgeProbe
from secml_papers.index.categorize.reuse import for_sections, has_evidence
from secml_papers.service import library as library_module
from secml_papers.service.api import create_app
from secml_papers.service.checkpr import check_pr
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .larger_list import larger_list

POISON = '- Ma et al. [**"Poisoning Defenses Against Backdoor Triggers"**](https://e.org/1) @ **CCS 2023**.'
BOXES = '- Li et al. [**"Sparse Adversarial Attacks on Image Classifiers"**](https://e.org/2) @ **ICML 2023**.'
STEAL = '- Tramer et al. [**"Stealing Machine Learning Models via Prediction APIs"**](https://e.org/3) @ **USENIX 2016**.'


def added_in_place(base: str) -> str:
    """HEAD adds two papers to sections BASE has."""
    return base.replace("- Nguyen et al.", f"{POISON}\n- Nguyen et al.").replace(
        "- Croce et al.", f"{BOXES}\n- Croce et al."
    )


def with_new_section(base: str) -> str:
    """HEAD also adds a section (with a paper in it)."""
    return added_in_place(base).rstrip("\n") + f"\n\n### Model Stealing\n\n{STEAL}\n"


def fresh(base: str, head: str, library: Library) -> list:
    """What check-pr's placements are with a categorizer fitted for this check alone."""
    b, h = parse_list(base), parse_list(head)
    added = diff_lists(b, h).added
    index = library.index()
    by_id = dict(zip((p.id for p in index.papers), index.vectors, strict=True))
    vectors = np.array([by_id[p.id] for p in b.papers])
    embedder = library.embedder
    return [p.suggestions for p in place_added(b.papers, vectors, h.sections, added, embedder)]


@pytest.fixture
def count_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Categorizers that placement builds (a fit each)."""
    built: list[int] = []
    real = placement.Categorizer

    def counting(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(placement, "Categorizer", counting)
    return built


def test_check_pr_reuses_the_served_fit_and_answers_as_a_fresh_fit(
    fake_library: Library, bundled_text: str, count_fits: list[int]
) -> None:
    head = added_in_place(bundled_text)
    served = fake_library.categorizer
    report = check_pr(fake_library, bundled_text, head)
    assert count_fits == []  # nothing fitted for the check
    assert served.derived == {}  # the same candidates: the served categorizer itself
    expected = fresh(bundled_text, head, fake_library)
    assert len(count_fits) == 1
    assert [a.placement.suggestions for a in report.added] == expected
    assert len(expected) == 2 and all(len(s) == 3 for s in expected)


def test_another_base_is_fitted_afresh(
    fake_library: Library, bundled_text: str, count_fits: list[int]
) -> None:
    # BASE moves an entry to another section: the served fit learnt from other labels
    lines = bundled_text.splitlines()
    croce = next(i for i, line in enumerate(lines) if line.startswith("- Croce et al."))
    nguyen = next(i for i, line in enumerate(lines) if line.startswith("- Nguyen et al."))
    lines.insert(nguyen, lines.pop(croce))
    base = "\n".join(lines) + "\n"
    served = fake_library.categorizer
    b = parse_list(base)
    assert not has_evidence(served, b.papers, fake_library.index().vectors)
    report = check_pr(fake_library, base, added_in_place(base))
    assert len(count_fits) == 1
    expected = fresh(base, added_in_place(base), fake_library)
    assert [a.placement.suggestions for a in report.added] == expected


def test_a_new_head_section_shares_the_fit_parts_and_answers_as_a_fresh_fit(
    fake_library: Library, bundled_text: str, count_fits: list[int]
) -> None:
    head = with_new_section(bundled_text)
    served = fake_library.categorizer
    report = check_pr(fake_library, bundled_text, head)
    assert count_fits == []
    derived = for_sections(served, parse_list(head).sections)
    assert derived is not served and derived.candidates != served.candidates
    assert ("ML for Security Systems", "Model Stealing") in derived.candidates
    assert derived.probes[0][0].design is served.probes[0][0].design  # the inverse, shared
    assert derived.entries_lexical is served.entries_lexical
    assert check_pr(fake_library, bundled_text, head).to_dict() == report.to_dict()
    assert for_sections(served, parse_list(head).sections) is derived  # kept, not refitted
    expected = fresh(bundled_text, head, fake_library)
    assert [a.placement.suggestions for a in report.added] == expected
    assert report.added[-1].placement.paper.section[-1] == "Model Stealing"


@pytest.fixture(scope="module")
def larger() -> Categorizer:
    parsed = parse_list(larger_list(_bundled()))
    embedder = FakeEmbedder()
    vectors = embedder.embed([p.title for p in parsed.papers])
    return Categorizer(parsed.papers, vectors, parsed.sections, embedder)


def _bundled() -> str:
    from secml_papers.corpus.storage import read_list

    return read_list(None).text


def generic(cat: Categorizer, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training rows by the definition: ``features`` with the hidden entries marked."""
    texts = [cat.texts[i] for i in rows]
    loo = np.zeros((len(rows), len(cat.papers)), dtype=bool)
    loo[np.arange(len(rows)), rows] = True
    emptied = np.zeros_like(loo)
    for sections in training.emptied_sections(cat.labels, rows, len(cat.candidates)):
        emptied |= cat.labels[None, :] == sections[:, None]
    vectors = cat.vectors[rows]
    return cat.features(vectors, texts, loo), cat.features(vectors, texts, emptied)


@pytest.mark.parametrize("chunk_cells", [training.CHUNK_CELLS, 700])
def test_training_rows_are_the_features_with_the_entries_hidden(
    larger: Categorizer, chunk_cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one chunk: the very same arithmetic; in chunks, float32 products round differently
    tolerance = 1e-12 if chunk_cells == training.CHUNK_CELLS else 1e-6
    monkeypatch.setattr(training, "CHUNK_CELLS", chunk_cells)  # 700: ten rows at a time
    rows = larger.labelled
    assert len(rows) == int((larger.labels >= 0).sum()) > 60  # below the threshold: every one
    loo, new = training.training_features(larger, rows)
    want_loo, want_new = generic(larger, rows)
    np.testing.assert_allclose(loo, want_loo, rtol=0, atol=tolerance)
    np.testing.assert_allclose(new, want_new, rtol=0, atol=tolerance)


def test_above_the_threshold_the_fit_uses_a_stratified_sample(larger: Categorizer) -> None:
    cat = Categorizer(larger.papers, larger.vectors, _sections(), larger.embedder, sample_above=30)
    rows = cat.labelled
    every = np.flatnonzero(cat.labels >= 0)
    assert 20 <= len(rows) < len(every)
    assert set(cat.labels[rows]) == set(cat.labels[every])  # every section with entries
    want_loo, want_new = generic(cat, rows)  # the sampled rows are exact
    np.testing.assert_allclose(cat.loo_features, want_loo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cat.new_section_features, want_new, rtol=0, atol=1e-12)
    assert cat.held_out is not None and cat.held_out.shape == (len(rows), len(cat.candidates))
    assert not np.array_equal(cat.model.weights, larger.model.weights)  # it did kick in
    # and below it, nothing changes: a threshold just above the list's size fits as ever
    same = Categorizer(
        larger.papers, larger.vectors, _sections(), larger.embedder, sample_above=len(every)
    )
    np.testing.assert_array_equal(same.labelled, larger.labelled)
    assert same.temperature == larger.temperature
    np.testing.assert_array_equal(same.model.weights, larger.model.weights)
    paper = larger.papers[5]
    query = larger.embedder.embed(["backdoor trigger defense for poisoned models"])[0]
    assert same.categorize_vector(query, paper.title) == larger.categorize_vector(
        query, paper.title
    )


def _sections():
    return parse_list(larger_list(_bundled())).sections


def test_the_sample_is_bounded_and_proportional() -> None:
    labels = np.repeat(np.arange(40), np.linspace(10, 5000, 40).astype(int))
    labels[::97] = -1  # entries outside any candidate section
    rows = training.training_rows(labels)
    assert len(rows) <= training.SAMPLE_ABOVE + 2 * 40
    assert np.all(labels[rows] >= 0) and len(np.unique(rows)) == len(rows)
    counts = np.bincount(labels[rows], minlength=40)
    shares = np.bincount(labels[labels >= 0], minlength=40) / int((labels >= 0).sum())
    assert np.all(counts >= 2)
    assert np.abs(counts / len(rows) - shares).max() < 0.01
    small = labels[:1500]
    np.testing.assert_array_equal(training.training_rows(small), np.flatnonzero(small >= 0))


def test_a_block_left_out_in_the_primal_matches_the_dual() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((120, 8))
    member = np.eye(4)[rng.integers(0, 4, 120)]
    probe = RidgeProbe(vectors, member)
    block = np.arange(30, 70)
    primal = probe.block_out(block, probe.design.without(block))
    np.testing.assert_allclose(primal, probe.block_out(block), atol=1e-9)
    shared = Design.of(vectors)
    np.testing.assert_array_equal(RidgeProbe(vectors, member, design=shared).weights, probe.weights)
    np.testing.assert_allclose(
        probe.leave_one_out(np.arange(0, 120, 7)), probe.leave_one_out()[::7], atol=1e-12
    )


def test_search_answers_while_the_categorizer_is_fitting(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = Library(Settings(index_dir=tmp_path / "index"), FakeEmbedder())
    library.index()
    release, started = threading.Event(), threading.Event()
    real = library_module._categorizer

    def slow(served, embedder):
        started.set()
        release.wait(20)  # a fit that takes as long as the test lets it
        return real(served, embedder)

    monkeypatch.setattr(library_module, "_categorizer", slow)
    fitting = library.fit_in_background()
    try:
        assert started.wait(5)
        client = TestClient(create_app(library))
        assert client.get("/health").status_code == 200
        found = client.get("/search", params={"q": "backdoor defense"})
        assert found.status_code == 200 and found.json()["results"]
        assert fitting.is_alive()  # /search did not wait for the fit
    finally:
        release.set()
    fitting.join(20)
    assert not fitting.is_alive()
    categorized = client.post("/categorize", json={"title": "Backdoor defense by pruning"})
    assert categorized.status_code == 200 and categorized.json()["suggestions"]
    assert library.categorizer.held_out is not None  # fitted before it was handed out


def test_serve_starts_before_the_categorizer_is_fitted(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from secml_papers.service.cli import app

    release, done = threading.Event(), threading.Event()
    real = library_module._categorizer
    seen: dict = {}

    def slow(served, embedder):
        release.wait(10)
        fitted = real(served, embedder)
        done.set()
        return fitted

    def run(asgi, **_) -> None:  # instead of the server: what a first client would get
        client = TestClient(asgi)
        seen["search"] = client.get("/search", params={"q": "backdoor"}).status_code
        seen["fitting"] = not done.is_set()  # served before the fit ended
        release.set()
        seen["categorize"] = client.post("/categorize", json={"title": "backdoor"}).status_code

    monkeypatch.setattr(library_module, "_categorizer", slow)
    monkeypatch.setattr(uvicorn, "run", run)
    obj = {"embedder": FakeEmbedder()}
    result = CliRunner().invoke(app, ["--index-dir", str(tmp_path / "idx"), "serve"], obj=obj)
    release.set()
    assert result.exit_code == 0, result.output
    assert seen == {"search": 200, "fitting": True, "categorize": 200}
