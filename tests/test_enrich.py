"""Enrichment end to end: the source order, title checks, the cache, resuming, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Response

from secml_papers.corpus.enrich import Enricher
from secml_papers.corpus.storage import append_jsonl, misses_path, read_abstracts, read_jsonl
from secml_papers.service.cli import app
from secml_papers.service.enrichment import open_sources, targets_for
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings
from tests import enrich_stubs
from tests.enrich_stubs import FakeApis, crossref_work, openalex_work, s2_paper

stub_server, stub = enrich_stubs.stub_server, enrich_stubs.stub  # the stub's fixtures
EXE = Path(sys.executable).with_name("secml-papers")

A = "Towards Deep Learning Models Resistant to Adversarial Attacks"
B = "Neural Cleanse: Identifying and Mitigating Backdoor Attacks in Neural Networks"
C = "Membership Inference Attacks against Machine Learning Models"
D = "Certified Adversarial Robustness via Randomized Smoothing"
E = "A Paper That No Index Knows About"
F = "Poisoning Attacks against Support Vector Machines"
G = "Stealing Machine Learning Models via Prediction APIs"
ENTRIES = [
    (A, "https://arxiv.org/abs/1706.06083"),
    (B, "https://doi.org/10.1109/sp.2019.00031"),
    (C, "https://doi.org/10.1109/sp.2017.41"),
    (D, "https://proceedings.mlr.press/v97/cohen19c.html"),
    (E, "https://example.org/unknown.pdf"),
    (F, "https://arxiv.org/pdf/1206.6389v3"),
    (G, "https://doi.org/10.5555/stealing"),
]
WRONG = "This abstract belongs to another paper and must never reach the cache at all."


def abstract_of(title: str) -> str:
    return f"The abstract of {title}, long enough to be a real one."


def write_list(path: Path, entries=ENTRIES) -> Path:
    lines = ["# Test List", "", "## Attacks", ""]
    for title, url in entries:
        lines.append(f'- A. Author et al. [**"{title}"**]({url}) @ **CCS 2020**.')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fake_apis() -> FakeApis:
    apis = FakeApis()
    apis.arxiv["1706.06083"] = (A, abstract_of(A))
    apis.arxiv["1206.6389"] = ("Graph Neural Networks for Molecules", WRONG)  # a wrong link
    apis.s2["DOI:10.1109/sp.2019.00031"] = s2_paper("s2b", B, None)  # S2 has no abstract
    apis.s2["DOI:10.1109/sp.2017.41"] = s2_paper("s2x", "Membership Inference in Graphs", WRONG)
    apis.s2["ARXIV:1206.6389"] = s2_paper("s2f", F, abstract_of(F), arxiv="1206.6389")
    apis.s2["DOI:10.5555/stealing"] = s2_paper("s2y", "Stealing Hyperparameters", WRONG)
    apis.s2_match[D] = s2_paper("s2d", D.lower() + ".", abstract_of(D))
    apis.openalex["10.1109/sp.2019.00031"] = openalex_work(
        "W1", B, abstract_of(B), "10.1109/SP.2019.00031"
    )
    apis.openalex_search[E] = [openalex_work("W9", "Unrelated Work on Compilers", WRONG)]
    apis.crossref["10.1109/sp.2017.41"] = crossref_work(
        "10.1109/SP.2017.41",
        C,
        f"<jats:title>Abstract</jats:title><jats:p>{abstract_of(C)}</jats:p>",
    )
    apis.crossref["10.5555/stealing"] = crossref_work("10.5555/stealing", "Stealing Hats", WRONG)
    return apis


def settings_for(server: HTTPServer, apis: FakeApis, tmp_path: Path, **more) -> Settings:
    urls = apis.install(server)
    return Settings(
        list_source=str(write_list(tmp_path / "list.md")),
        index_dir=tmp_path / "idx",
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        arxiv_url=urls["arxiv"],
        s2_url=urls["s2"],
        openalex_url=urls["openalex"],
        crossref_url=urls["crossref"],
        arxiv_interval=0,
        s2_interval=0,
        openalex_interval=0,
        crossref_interval=0,
        **{"retries": 1, **more},
    )


def run_enricher(library: Library, waits: list[float] | None = None):
    path = library.settings.abstracts_path()
    targets, _ = targets_for(library, retry_missing=False)
    with ExitStack() as stack:
        sources = open_sources(
            library.settings, stack, sleep=(waits if waits is not None else []).append
        )
        messages: list[str] = []
        enricher = Enricher(
            **sources,
            on_found=lambda r: append_jsonl(path, [r]),
            on_missing=lambda r: append_jsonl(misses_path(path), [r]),
            notify=messages.append,
        )
        return enricher.run(targets), messages


def test_each_entry_gets_the_first_verified_abstract(stub, tmp_path, fake_embedder) -> None:
    apis = fake_apis()
    apis.script["s2"] = [Response("", status=429, headers={"Retry-After": "1"})]
    settings = settings_for(stub, apis, tmp_path)
    waits: list[float] = []
    summary, _ = run_enricher(Library(settings, fake_embedder), waits)

    assert 1.0 in waits  # S2's 429 was honoured
    records, skipped = read_abstracts(settings.abstracts_path())
    assert skipped == []
    by_title = {r["title"]: r for r in records}
    assert {t: r["source"] for t, r in by_title.items()} == {
        A: "arxiv",
        B: "openalex",
        C: "crossref",
        D: "s2",
        F: "s2",
    }
    assert by_title[C]["abstract"] == abstract_of(C)  # JATS stripped
    assert by_title[B]["openalex_id"] == "W1" and by_title[B]["doi"] == "10.1109/sp.2019.00031"
    assert by_title[F]["s2_id"] == "s2f" and by_title[F]["arxiv_id"] == "1206.6389"
    assert by_title[D]["matched_title"] == D.lower() + "."
    assert WRONG not in settings.abstracts_path().read_text()

    assert (summary.found, summary.not_found, summary.mismatched, summary.errors) == (5, 1, 1, 0)
    assert summary.sources["s2"].no_abstract == 1
    assert summary.sources["arxiv"].mismatched == 1  # F's link leads elsewhere
    assert summary.sources["s2"].mismatched == 2  # C's and G's DOI answers
    assert summary.sources["crossref"].mismatched == 1
    misses = {
        r["title"]: r["reason"] for r in read_jsonl(misses_path(settings.abstracts_path()))[0]
    }
    assert misses == {E: "not found", G: "mismatched"}
    # the cheapest sure source first: A never reached S2, B's DOI went to S2 before OpenAlex
    assert "ARXIV:1706.06083" not in " ".join(apis.asked(stub, "s2"))
    assert apis.asked(stub, "arxiv") == ["1706.06083", "1206.6389"]  # one batched request


def test_build_uses_the_cached_abstracts_without_being_told(stub, tmp_path, fake_embedder) -> None:
    apis = fake_apis()
    settings = settings_for(stub, apis, tmp_path)
    Library(settings, fake_embedder).build()  # titles only
    run_enricher(Library(settings, fake_embedder))
    library = Library(settings, fake_embedder)  # no --abstracts: the list's own file
    with_abstract = {p.title for p in library.paper_list.papers if p.abstract}
    assert with_abstract == {A, B, C, D, F}
    report = library.build()
    assert report.embedded == 5 and report.reused == 2  # only the entries whose text changed


def test_a_source_that_keeps_failing_is_dropped_once(stub, tmp_path, fake_embedder) -> None:
    apis = fake_apis()
    apis.script["s2"] = [Response("boom", status=500) for _ in range(20)]
    settings = settings_for(stub, apis, tmp_path, retries=0)
    summary, messages = run_enricher(Library(settings, fake_embedder))
    assert summary.dropped == ["s2"]
    assert len([m for m in messages if "s2" in m]) == 1 and "skipped" in messages[0]
    assert summary.sources["s2"].errors == 3
    assert len(apis.script["s2"]) == 17  # no S2 request after it was dropped
    # entries S2 could not answer are not recorded as missing: the next run asks again
    misses = read_jsonl(misses_path(settings.abstracts_path()), missing_ok=True)[0]
    assert all(r["title"] != D for r in misses)
    assert summary.errors > 0


def test_a_malformed_answer_leaves_the_entry_for_next_run(stub, tmp_path, fake_embedder) -> None:
    apis = fake_apis()
    apis.script["openalex"] = [Response("{not json", content_type="application/json")]
    settings = settings_for(stub, apis, tmp_path)
    summary, _ = run_enricher(Library(settings, fake_embedder))
    assert summary.sources["openalex"].errors == 1 and summary.errors == 1
    misses = read_jsonl(misses_path(settings.abstracts_path()))[0]
    cached = read_abstracts(settings.abstracts_path())[0]
    assert B not in {r["title"] for r in cached + misses}  # neither found nor "missing"
    stub.clear()
    apis.install(stub)
    again, _ = run_enricher(Library(settings, fake_embedder))
    assert (again.found, again.errors) == (1, 0)  # only B was asked again, and found
    assert B in {r["title"] for r in read_abstracts(settings.abstracts_path())[0]}


# --- the CLI -----------------------------------------------------------------------------


@pytest.fixture
def cli_env(stub, tmp_path, monkeypatch):
    apis = fake_apis()
    env = apis.env(stub) | {
        "SECML_PAPERS_LIST": str(write_list(tmp_path / "list.md")),
        "SECML_PAPERS_DATA_DIR": str(tmp_path / "data"),
        "SECML_PAPERS_CACHE_DIR": str(tmp_path / "cache"),
        "SECML_PAPERS_INDEX_DIR": str(tmp_path / "idx"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return apis, env


def cli(fake_embedder, *args: str):
    result = CliRunner().invoke(app, list(args), obj={"embedder": fake_embedder})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_cli_enrich_limit_then_resume(stub, cli_env, fake_embedder) -> None:
    apis, _ = cli_env
    first = cli(fake_embedder, "enrich", "--limit", "3", "--json")
    report = json.loads(first.stdout)
    assert report["asked"] == 3 and report["found"] == 3
    assert report["skipped"]["over_limit"] == 4
    asked_first = apis.asked(stub, "arxiv") + apis.asked(stub, "s2")
    stub.clear()
    apis.install(stub)

    second = json.loads(cli(fake_embedder, "enrich", "--json").stdout)
    assert second["asked"] == 4 and second["skipped"]["had_abstract"] == 3
    assert (second["found"], second["not_found"], second["mismatched"]) == (2, 1, 1)
    asked_second = apis.asked(stub, "arxiv") + apis.asked(stub, "s2")
    assert "1706.06083" in asked_first and "1706.06083" not in asked_second  # A: done before
    assert D in asked_second and D not in asked_first
    stub.clear()
    apis.install(stub)

    third = cli(fake_embedder, "enrich")
    assert "0 entries asked" in third.stdout and "2 known missing" in third.stdout
    assert stub.log == []  # nothing left to ask: found or known missing
    fourth = json.loads(cli(fake_embedder, "enrich", "--retry-missing", "--json").stdout)
    assert fourth["asked"] == 2 and len(stub.log) > 0

    papers = json.loads(cli(fake_embedder, "papers", "--json").stdout)["papers"]
    assert sum(1 for p in papers if p["abstract"]) == 5


def test_cli_summary_reports_mismatches(stub, cli_env, fake_embedder) -> None:
    out = cli(fake_embedder, "enrich").stdout
    assert "5 found, 1 not found, 1 mismatched, 0 errors" in out
    assert f"mismatch (not stored): '{G}'" in out
    assert "openalex" in out and "crossref" in out


def test_interrupted_run_resumes_where_it_stopped(stub, cli_env, tmp_path) -> None:
    """Kill a real enrich process mid-run; the rerun asks only about what is not cached yet."""
    apis, env = cli_env
    titles = [f"Adversarial Example Paper Number {i}" for i in range(8)]
    entries = [(t, f"https://doi.org/10.9999/paper.{i}") for i, t in enumerate(titles)]
    for i, t in enumerate(titles):
        apis.s2[f"DOI:10.9999/paper.{i}"] = s2_paper(f"p{i}", t, abstract_of(t))
    env["SECML_PAPERS_LIST"] = str(write_list(tmp_path / "list.md", entries))
    env["SECML_PAPERS_S2_INTERVAL"] = "0.4"
    cache = tmp_path / "data" / "abstracts"
    proc = subprocess.Popen(
        [str(EXE), "enrich"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        files = list(cache.glob("*.jsonl"))
        if files and len(files[0].read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    (path,) = cache.glob("*.jsonl")
    done = {r["title"] for r in read_abstracts(path)[0]}
    assert 3 <= len(done) < 8
    stub.clear()
    apis.install(stub)

    result = subprocess.run(
        [str(EXE), "enrich", "--json"],
        env={**os.environ, **env, "SECML_PAPERS_S2_INTERVAL": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["asked"] == 8 - len(done) and report["found"] == 8 - len(done)
    asked = apis.asked(stub, "s2")
    assert not any(f"paper.{titles.index(t)}" in " ".join(asked) for t in done)
    records, _ = read_abstracts(path)
    assert sorted(r["title"] for r in records) == sorted(titles) and len(records) == 8


def test_offline_enrich_is_a_clear_error_and_never_asks(stub, cli_env) -> None:
    _, env = cli_env
    result = subprocess.run(
        [str(EXE), "--offline", "enrich"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: offline: enrich can only import abstracts from a file, with --from FILE"
    )
    assert stub.log == []


# --- enrich --from -----------------------------------------------------------------------


def test_enrich_from_a_data_set_file(stub, cli_env, tmp_path, fake_embedder) -> None:
    data = {
        "owasp_id": "ML01",
        "owasp_name": "Input Manipulation Attack",
        "papers": [
            {"title": A.upper(), "abstract": abstract_of(A), "doi": None, "url": "https://x.org/a"},
            {
                "title": "Something Else",
                "abstract": WRONG,
                "url": "https://arxiv.org/abs/1706.06083",
            },
            {
                "title": "Membership inference attacks against machine-learning models.",
                "abstract": abstract_of(C),
            },
            {"title": "Not In The List", "abstract": WRONG},
            {"title": D, "abstract": None},
        ],
    }
    source = tmp_path / "ml01_papers.json"
    source.write_text(json.dumps(data))
    out = cli(fake_embedder, "--offline", "enrich", "--from", str(source), "--json")
    report = json.loads(out.stdout)
    assert (report["records"], report["imported"], report["unmatched"]) == (4, 2, 1)
    assert report["mismatched"] == 1  # the right arXiv id under another title: refused
    assert stub.log == []
    papers = json.loads(cli(fake_embedder, "papers", "--json").stdout)["papers"]
    attached = {p["title"]: p["abstract"] for p in papers if p["abstract"]}
    assert attached == {A: abstract_of(A), C: abstract_of(C)}

    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(json.dumps({"title": F, "abstract": abstract_of(F)}) + "\n")
    text = cli(fake_embedder, "enrich", "--from", str(jsonl)).stdout
    assert "imported 1 abstracts" in text and "1 matched entries of the list" in " ".join(
        text.split()
    )


def test_enrich_from_a_file_that_is_not_json(tmp_path, cli_env) -> None:
    _, env = cli_env
    bad = tmp_path / "bad.json"
    bad.write_text("{oops\nnot json\n")
    result = subprocess.run(
        [str(EXE), "enrich", "--from", str(bad)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "bad.json is neither JSON nor JSON Lines (line 1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- the cache file ----------------------------------------------------------------------


def test_a_torn_last_line_is_skipped_and_the_next_append_starts_clean(tmp_path) -> None:
    path = tmp_path / "abstracts.jsonl"
    append_jsonl(path, [{"title": "One", "abstract": "first"}])
    with open(path, "ab") as handle:
        handle.write(b'{"title": "Two", "abstr')  # a crash mid-write
    records, skipped = read_abstracts(path)
    assert [r["title"] for r in records] == ["One"] and len(skipped) == 1
    append_jsonl(path, [{"title": "Three", "abstract": "third"}])
    records, skipped = read_abstracts(path)
    assert [r["title"] for r in records] == ["One", "Three"] and len(skipped) == 1


def test_two_entries_sharing_a_wrong_link_do_not_share_an_abstract(stub, tmp_path, fake_embedder):
    apis = fake_apis()
    twin = "Stealing Links from Graph Neural Networks"
    entries = [(A, "https://arxiv.org/abs/1706.06083"), (twin, "https://arxiv.org/pdf/1706.06083")]
    settings = settings_for(stub, apis, tmp_path)
    write_list(Path(settings.list_source), entries)
    summary, _ = run_enricher(Library(settings, fake_embedder))
    assert (summary.found, summary.mismatched) == (1, 1)  # both asked; arXiv's answer fits one
    assert summary.sources["arxiv"].mismatched == 1
    papers = Library(settings, fake_embedder).paper_list.papers
    assert {p.title: p.abstract for p in papers} == {A: abstract_of(A), twin: None}


def test_settings_reach_each_api(stub, cli_env, fake_embedder, monkeypatch) -> None:
    monkeypatch.setenv("SECML_PAPERS_S2_API_KEY", "k-123")
    cli(fake_embedder, "enrich", "--limit", "3")
    seen: dict[str, list] = {}
    for request, _ in stub.log:
        seen.setdefault(request.path.split("/")[1], []).append(request)
    assert set(seen) == {"arxiv", "s2", "openalex", "crossref"}
    for name, requests in seen.items():
        for request in requests:
            assert request.headers["User-Agent"] == "secml-papers/0.1 (mailto:tests@example.org)"
            assert (request.headers.get("x-api-key") == "k-123") == (name == "s2")
            if name in ("openalex", "crossref"):
                assert request.args["mailto"] == "tests@example.org"
