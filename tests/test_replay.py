"""`replay` on a small git history built here: an addition, a merged pull request (one step),
a later move (a misplacement fixed), a later removal of a duplicate, and the errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from secml_papers.corpus.errors import InputError
from secml_papers.corpus.history import combine, steps, versions
from secml_papers.corpus.parse import parse_list
from secml_papers.index.categorize.verdict import judge, reweigh
from secml_papers.index.evaluation.replay import by_year, knn_vote
from secml_papers.service.replay import run_replay

EXE = Path(sys.executable).with_name("secml-papers")
BACKDOOR = [
    "Backdoor trigger attack on image classifiers",
    "Stealthy backdoor trigger poisoning",
    "Backdoor trigger injection in federated models",
    "Invisible backdoor trigger patterns",
    "Physical backdoor trigger attacks",
    "Clean-label backdoor trigger poisoning",
]
MEMBERSHIP = [
    "Membership inference attacks against models",
    "Label-only membership inference",
    "Membership inference from shadow models",
    "Membership inference on language models",
    "Defending membership inference with regularisation",
    "Membership inference under differential privacy",
]


def entry(title: str, n: int) -> str:
    return f'- Author et al. [**"{title}"**](https://arxiv.org/abs/2101.{n:05d}) @ **ICML 2021**.'


def render(backdoor: list[tuple[str, int]], membership: list[tuple[str, int]]) -> str:
    lines = ["# Test List", "", "## Backdoor Attacks", ""]
    lines += [entry(t, n) for t, n in backdoor]
    lines += ["", "## Membership Inference", ""]
    lines += [entry(t, n) for t, n in membership]
    return "\n".join(lines) + "\n"


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def commit(repo: Path, text: str, message: str) -> None:
    (repo / "README.md").write_text(text)
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("list-repo")
    git(repo, "init", "-q", "-b", "main")
    backdoor = [(t, i) for i, t in enumerate(BACKDOOR)]
    membership = [(t, 10 + i) for i, t in enumerate(MEMBERSHIP)]
    commit(repo, render(backdoor, membership), "the list")
    # a contributor's pull request from a branch: two commits, merged with a merge commit
    git(repo, "checkout", "-q", "-b", "contribution")
    backdoor.append(("Sleeper backdoor trigger attacks", 20))
    commit(repo, render(backdoor, membership), "add a backdoor paper")
    backdoor.append(("Membership inference for diffusion models", 21))  # misplaced
    commit(repo, render(backdoor, membership), "add a membership paper")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "contribution")
    # a duplicate of an entry (same arXiv id, another wording of the title)
    membership.append(("Membership inference attacks against ML models", 10))
    commit(repo, render(backdoor, membership), "add a paper")
    # the maintainers fix the misplacement, then remove the duplicate
    backdoor.remove(("Membership inference for diffusion models", 21))
    membership.insert(0, ("Membership inference for diffusion models", 21))
    commit(repo, render(backdoor, membership), "move a paper")
    membership.pop()
    commit(repo, render(backdoor, membership), "remove a duplicate")
    return repo


def test_first_parent_steps(history: Path) -> None:
    found = steps(history, ["README.md"])
    assert [s.subject for s in found] == [
        "the list",
        "Merge pull request #1",
        "add a paper",
        "move a paper",
        "remove a duplicate",
    ]
    assert found[0].parent is None and found[1].parent == found[0].commit
    assert [s.subject for s in steps(history, ["README.md"], limit=2)] == [
        "move a paper",
        "remove a duplicate",
    ]
    merged = [(b, h) for s, b, h in versions(history, ["README.md"], found)][1]
    assert len(merged[1].papers) - len(merged[0].papers) == 2  # the PR's two papers, one step


def test_replay_figures(history: Path, fake_embedder) -> None:
    results, found, about = run_replay(history, [], fake_embedder, progress=False)
    assert about["paths"] == ["README.md"]
    added = {a.title: a for r in results for a in r.additions}
    assert len(added) == 12 + 3
    right = added["Sleeper backdoor trigger attacks"]
    assert right.eligible and right.kind == "existing"
    assert right.blind[0] == ("Backdoor Attacks",) and right.verdict == "ok"
    assert right.knn[0] == ("Backdoor Attacks",)
    misplaced = added["Membership inference for diffusion models"]
    assert misplaced.section == ("Backdoor Attacks",)
    assert misplaced.blind[0] == ("Membership Inference",)
    duplicate = added["Membership inference attacks against ML models"]
    assert duplicate.flagged  # same arXiv id as an entry of BASE
    assert found.steps == 5 and found.adding_steps == 3
    assert found.judged == 3  # the first step's BASE is empty: nothing to judge there
    assert found.misplacements == 1 and found.misplacements_top1 == 1
    assert found.misplacements_top3 == 1  # first is among the three
    assert found.duplicates == 1 and found.duplicates_flagged == 1
    assert found.ours.top1 == pytest.approx(2 / 3) and found.knn.top1 == pytest.approx(2 / 3)


def test_errors(tmp_path: Path, history: Path, fake_embedder) -> None:
    with pytest.raises(InputError, match="is not a git repository"):
        run_replay(tmp_path, [], fake_embedder, progress=False)
    with pytest.raises(InputError, match=r"no commit of .* holds LIST.md"):
        run_replay(history, ["LIST.md"], fake_embedder, progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    commit(empty, "# A list\n\nNo entries yet.\n", "start")
    with pytest.raises(InputError, match=r"no step .* adds entries"):
        run_replay(empty, [], fake_embedder, progress=False)


def test_cli_errors_in_one_sentence(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(EXE), "replay", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "is not a git repository" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.real_model
def test_cli_json(history: Path) -> None:
    done = subprocess.run(
        [str(EXE), "replay", str(history), "--json"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["figures"]["steps"] == 5 and data["figures"]["duplicates_flagged"] == 1
    assert {a["title"] for s in data["steps"] for a in s["added"]} >= {
        "Sleeper backdoor trigger attacks"
    }


def test_several_files_are_one_list() -> None:
    a = parse_list("# Jailbreak\n\n- [**Jailbreak prompts**](https://arxiv.org/abs/2301.00001)\n")
    b = parse_list("# Privacy\n\n## Attacks\n\n- [**Data extraction**](https://x.org/p)\n")
    both = combine([("jailbreak.md", a), ("privacy.md", b)])
    assert [p.section for p in both.papers] == [("Jailbreak",), ("Privacy", "Attacks")]
    assert {s.path for s in both.sections} >= {("Jailbreak",), ("Privacy",), ("Privacy", "Attacks")}


def test_sections_by_year_are_recognised() -> None:
    yearly = parse_list(
        render([], []).replace("Backdoor Attacks", "2023").replace("Membership Inference", "2024")
        + entry("A paper", 1)
    )
    assert by_year([*yearly.papers, *parse_list("# L\n\n## 2022\n\n" + entry("B", 2)).papers])
    assert not by_year(parse_list(render([(BACKDOOR[0], 1)], [(MEMBERSHIP[0], 2)])).papers)


def test_knn_vote_and_verdicts() -> None:
    papers = parse_list(render([(t, i) for i, t in enumerate(BACKDOOR[:3])], [(MEMBERSHIP[0], 9)]))
    sims = np.array([0.9, 0.8, 0.1, 0.95])
    ranked = knn_vote(sims, papers.papers, k=3)
    assert ranked[0] == (("Backdoor Attacks",), pytest.approx(2 / 3))
    sections = [("a",), ("b",), ("c",)]
    blind = np.array([0.6, 0.3, 0.1])
    assert judge(sections, blind, ("a",)).word == "ok"
    # the contributor's choice as a prior: a close second stays where it was put
    assert judge(sections, blind, ("b",)).word == "ok"
    # without the prior's weight, the same evidence is a doubt, and a clear one a move
    assert judge(sections, blind, ("b",), prior=1 / 3).word == "unsure"
    assert judge(sections, np.array([0.98, 0.01, 0.01]), ("b",), prior=1 / 3).word == "move"
    assert judge(sections, np.array([0.98, 0.01, 0.01]), ("b",), off_topic=True).word != "move"
    weighted = blind * np.array([0.05, 0.9, 0.05])  # the prior on the chosen section "b"
    q = weighted / weighted.sum()
    assert reweigh(0.3, 0.6, 3) == pytest.approx((q[1], q[0]))


def test_eval_reports_the_replay_of_a_list_in_git(history: Path, tmp_path: Path, fake_embedder):
    from secml_papers.service.evaluation import evaluate_list
    from secml_papers.service.library import Library
    from secml_papers.service.settings import Settings

    settings = Settings(list_source=str(history / "README.md"), index_dir=tmp_path / "index")
    report = evaluate_list(Library(settings, fake_embedder))
    assert report["replay"]["paths"] == ["README.md"]
    assert report["replay"]["figures"]["steps"] == 5
    loose = tmp_path / "list.md"
    loose.write_text((history / "README.md").read_text())
    settings = Settings(list_source=str(loose), index_dir=tmp_path / "index2")
    assert "replay" not in evaluate_list(Library(settings, fake_embedder))


class _Recording:
    """The fake embedder, remembering every text it was given."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.texts = inner, inner.name, []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)


SLEEPER_ABSTRACT = "A sleeper agent trigger stays dormant in the backdoored model."


def test_replay_reads_entries_and_additions_with_the_abstracts_given(
    history: Path, fake_embedder
) -> None:
    records = [
        {"title": "Sleeper backdoor trigger attacks", "abstract": SLEEPER_ABSTRACT},
        {"title": BACKDOOR[0], "abstract": "Triggers stamped on images flip the label."},
    ]
    embedder = _Recording(fake_embedder)
    results, found, about = run_replay(
        history, [], embedder, progress=False, abstracts=records, abstracts_file="cache.jsonl"
    )
    added = {a.title: a for r in results for a in r.additions}
    assert added["Sleeper backdoor trigger attacks"].with_abstract
    assert not added["Membership inference for diffusion models"].with_abstract
    assert found.judged_with_abstract == 1 and about["abstracts"] == "cache.jsonl"
    assert f"Sleeper backdoor trigger attacks. {SLEEPER_ABSTRACT}" in embedder.texts
    assert f"{BACKDOOR[0]}. Triggers stamped on images flip the label." in embedder.texts
    assert BACKDOOR[0] not in embedder.texts  # BASE's entry read with its abstract every time
    plain, without, _ = run_replay(history, [], fake_embedder, progress=False)
    assert without.judged_with_abstract == 0
    assert not any(a.with_abstract for r in plain for a in r.additions)


@pytest.mark.real_model
def test_cli_replay_takes_the_global_abstracts_option(history: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from secml_papers.service.cli import app

    cache = tmp_path / "abstracts.jsonl"
    cache.write_text(
        json.dumps({"title": "Sleeper backdoor trigger attacks", "abstract": SLEEPER_ABSTRACT})
        + "\n"
    )
    runner = CliRunner()
    done = runner.invoke(app, ["--abstracts", str(cache), "replay", str(history), "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["abstracts"] == str(cache) and data["figures"]["judged_with_abstract"] == 1
    read = {a["title"]: a["with_abstract"] for s in data["steps"] for a in s["added"]}
    assert read["Sleeper backdoor trigger attacks"] is True
    table = runner.invoke(app, ["--abstracts", str(cache), "replay", str(history)])
    assert f"Abstracts from {cache}: 1 of the 3 judged additions" in " ".join(table.stdout.split())
    missing = subprocess.run(
        [str(EXE), "--abstracts", str(tmp_path / "no.jsonl"), "replay", str(history)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert (
        missing.stderr.strip()
        == f"error: the abstracts file {tmp_path / 'no.jsonl'} does not exist"
    )
