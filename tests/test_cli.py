"""The command line: real subprocesses for start-up and errors, in-process for the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from secml_papers.service.cli import app

EXE = Path(sys.executable).with_name("secml-papers")


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(EXE), *args], capture_output=True, text=True, timeout=300, env=full_env
    )


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("build", "papers", "sections", "search", "related", "categorize", "serve"):
        assert command in result.stdout


def test_sections_and_papers_as_json(tmp_path: Path) -> None:
    sections = json.loads(run("--index-dir", str(tmp_path), "sections", "--json").stdout)
    assert len(sections["sections"]) == 11
    assert {"section": ["Security of ML Models", "Membership Inference Attacks"], "count": 0} in (
        sections["sections"]
    )
    papers = json.loads(run("papers", "--json", "--section", "Theory-driven Papers").stdout)
    assert len(papers["papers"]) == 5 and papers["warnings"] == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--list", "/nonexistent/list.md", "papers"), "does not exist"),
        (("papers", "--section", "Quantum"), "no section matches 'Quantum'"),
        (("--model", "no-such-model", "search", "backdoor"), "unknown model 'no-such-model'"),
        (("search", "backdoor", "-k", "0"), "Invalid value for '-k'"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, fragment, tmp_path: Path) -> None:
    result = run("--index-dir", str(tmp_path / "idx"), *args)
    assert result.returncode == 2
    assert fragment in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    if fragment != "Invalid value for '-k'":  # click's usage errors bring their own help lines
        assert len(result.stderr.strip().splitlines()) == 1


def test_no_build_with_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    result = run("--index-dir", str(tmp_path), "--no-build", "search", "backdoor")
    assert result.returncode == 2
    assert "missing; run `secml-papers build`" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_list_file(tmp_path: Path) -> None:
    bad = tmp_path / "list.md"
    bad.write_bytes(b"\xff\xfe\x00 not utf-8 \xff")
    result = run("--list", str(bad), "papers")
    assert result.returncode == 2 and "not UTF-8 text" in result.stderr


def test_env_variables_choose_the_list(tmp_path: Path) -> None:
    own = tmp_path / "mine.md"
    own.write_text(
        '# Mine\n\n## Only\n\n- A et al. [**"Solo Paper"**](https://x.org/s) @ **CCS 2020**.\n'
    )
    result = run("papers", "--json", env={"SECML_PAPERS_LIST": str(own)})
    assert [p["title"] for p in json.loads(result.stdout)["papers"]] == ["Solo Paper"]


@pytest.mark.real_model
def test_real_search_in_a_fresh_process(real_library, real_index_dir: Path) -> None:
    """The installed command, the real model, and the index the session already built."""
    result = run(
        "--index-dir",
        str(real_index_dir),
        "--no-build",
        "search",
        "certified robustness via randomized smoothing",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert "Randomized Smoothing" in body["results"][0]["title"]


@pytest.fixture
def cli(fake_embedder, tmp_path: Path):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(
            app, ["--index-dir", str(tmp_path / "idx"), *args], obj={"embedder": fake_embedder}
        )

    return invoke


def test_build_prints_a_summary_and_reuses(cli) -> None:
    first = cli("build")
    assert first.exit_code == 0, first.output
    assert "27 entries, 27 embedded now, 0 reused" in first.output
    second = cli("build", "--json")
    report = json.loads(second.stdout)
    assert (report["entries"], report["embedded"], report["reused"]) == (27, 0, 27)


def test_build_keeps_the_categorizer_fit_for_the_next_start(cli, tmp_path: Path) -> None:
    skipped = cli("build", "--no-fit")
    assert skipped.exit_code == 0, skipped.output
    assert not list((tmp_path / "idx").glob("gen-*/categorizer-*.pickle"))
    fitted = cli("build")
    assert fitted.exit_code == 0, fitted.output
    assert "fitting the categorizer" in fitted.output
    assert len(list((tmp_path / "idx").glob("gen-*/categorizer-*.pickle"))) == 1


def test_search_related_and_categorize_tables(cli) -> None:
    table = cli("search", "backdoor federated learning", "-k", "3")
    assert table.exit_code == 0, table.output
    assert "FLAME" in table.stdout and "score" in table.stdout
    related = cli("related", "neural cleanse", "--json")
    body = json.loads(related.stdout)
    assert body["paper"]["title"].startswith("Neural Cleanse") and len(body["results"]) == 10
    unknown = cli("related", "a paper that is not there")
    assert unknown.exit_code != 0
    assert "closest titles" in str(unknown.exception)
    cat = cli("categorize", "--title", "membership inference attacks", "--json")
    suggestions = json.loads(cat.stdout)["suggestions"]
    assert len(suggestions) == 8
    assert suggestions[0]["section"][-1] == "Membership Inference Attacks"
    assert (
        "Membership Inference Attacks"
        in cli("categorize", "--title", "membership inference attacks").stdout
    )


def test_categorize_takes_tags(cli, tmp_path: Path) -> None:
    """``--tag`` (repeatable) is read as an entry's badges are (tests/test_entry_tags.py)."""
    from .test_entry_tags import NEW, _list

    tagged = tmp_path / "tagged.md"
    tagged.write_text(_list())
    for tag, section in (("Diffusion", "Image Models"), ("LLM", "Text Models")):
        found = cli("--list", str(tagged), "categorize", "--title", NEW, "--tag", tag, "--json")
        assert found.exit_code == 0, found.output
        assert json.loads(found.stdout)["suggestions"][0]["section"] == [section]
