"""``check-pr --format github``: annotations on the diff's lines and the job summary, on a
small pull request to the bundled list (the fake embedder: the format is what is tested)."""

from __future__ import annotations

import doctest
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from secml_papers.service import annotations
from secml_papers.service.annotations import Annotation, escape_data, escape_property
from secml_papers.service.cli import app
from secml_papers.service.comment import MARKER

from .conftest import FakeEmbedder

DUPE = (
    '- Rieger et al. [**"DeepSight: Mitigating Backdoor Attacks in Federated Learning Through Deep'
    ' Model Inspection"**](https://arxiv.org/abs/2201.00763v2) @ **NDSS 2022**.'
)
MALFORMED = "- Someone wrote about %0A::error::forged\r\n without any link"
COMMAND = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),title=([^:]+)::(.*)$")


def head_of(base: str) -> str:
    text = base.replace("- Nguyen et al.", f"{DUPE}\n- Nguyen et al.", 1)
    return text.replace("- Croce et al.", f"{MALFORMED}\n- Croce et al.", 1)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.fixture
def repo(tmp_path: Path, bundled_text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A list's repository: BASE committed, the pull request's HEAD in the work tree."""
    root = tmp_path / "list"
    root.mkdir()
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    (root / "README.md").write_text(bundled_text)
    subprocess.run([*git, "add", "README.md"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    (root / "README.md").write_text(head_of(bundled_text), newline="")
    monkeypatch.chdir(root)
    return root


def test_github_format_annotates_the_changed_lines(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    args = [
        "--index-dir",
        str(tmp_path / "idx"),
        "check-pr",
        "--git",
        "HEAD",
        "--path",
        "README.md",
    ]
    result = CliRunner().invoke(
        app,
        [*args, "--format", "github", "--report-dir", str(tmp_path / "report")],
        obj={"embedder": FakeEmbedder()},
    )
    assert result.exit_code == 1, result.output  # a duplicate and a malformed entry
    head = (repo / "README.md").read_text()
    lines = result.stdout.splitlines()
    assert lines and all(COMMAND.match(line) for line in lines), lines
    found = [COMMAND.match(line).groups() for line in lines]
    assert {f[1] for f in found} == {"README.md"}
    dupe_line, malformed_line = line_of(head, "DeepSight"), line_of(head, "Someone wrote")
    assert ("error", "README.md", str(dupe_line), "secml-papers%3A duplicate") in {
        f[:4] for f in found
    }
    assert ("error", "README.md", str(malformed_line), "secml-papers%3A malformed entry") in {
        f[:4] for f in found
    }
    levels = {f[0] for f in found if f[3] != "secml-papers%3A duplicate" and f[0] != "error"}
    assert levels <= {"warning", "notice"}
    assert [int(f[2]) for f in found] == sorted(int(f[2]) for f in found)
    # the summary: appended, the same Markdown as the comment
    text = summary.read_text()
    assert text.startswith("earlier step\n#### `README.md`\n\n" + MARKER)
    assert text.endswith((tmp_path / "report" / "comment.md").read_text() + "\n")


def test_a_crafted_title_cannot_forge_a_command() -> None:
    annotation = Annotation("warning", "lists/a,b.md", 7, "x: y", "T\r\n::error::forged 100%")
    assert annotation.command() == (
        "::warning file=lists/a%2Cb.md,line=7,title=x%3A y::T%0D%0A::error::forged 100%25"
    )
    assert "\n" not in annotation.command()
    assert escape_data("%0A") == "%250A"  # an already-escaped sequence stays literal
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_files_as_arguments_name_the_head_file(
    tmp_path: Path, bundled_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    base, head = tmp_path / "base.md", tmp_path / "head.md"
    base.write_text(bundled_text)
    head.write_text(bundled_text.replace("- Nguyen et al.", f"{DUPE}\n- Nguyen et al.", 1))
    result = CliRunner().invoke(
        app,
        [
            "--index-dir",
            str(tmp_path / "idx"),
            "check-pr",
            str(base),
            str(head),
            "--format",
            "github",
            "--fail-on",
            "none",
        ],
        obj={"embedder": FakeEmbedder()},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"::error file={head},line={line_of(head.read_text(), 'DeepSight')},"
    )


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check-pr", "a.md", "b.md", "--format", "xml"])
    assert result.exit_code != 0
    assert "markdown, json or github" in str(result.exception)


def test_doctests() -> None:
    assert doctest.testmod(annotations).failed == 0
