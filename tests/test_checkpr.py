"""check-pr end to end, with the real model: one realistic pull request, made both from the bundled
list and from a larger list built from the bundled list and the project's own fixture entries."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from secml_papers.service.checkpr import check_pr
from secml_papers.service.comment import MARKER, render

from .larger_list import larger_list
from .test_cli import run

pytestmark = pytest.mark.real_model

TYPO = "Neural Cleanse: Identifyng and Mitigating"
RIGHT = '- Carlini et al. [**"Membership Inference Attacks From First Principles"**]({right}) @ **S&P 2022**.'
WRONG = '- Choquette-Choo et al. [**"Label-Only Membership Inference Attacks"**]({wrong}) @ **ICML 2021**.'
DUPE = (
    '- Rieger et al. [**"DeepSight: Mitigating Backdoor Attacks in Federated Learning Through Deep'
    ' Model Inspection"**](https://arxiv.org/abs/2201.00763v2) @ **NDSS 2022**.'
)
MALFORMED = "- Someone wrote about <script>alert(1)</script> without any link"
COPIED = (
    '- Evil et al. [**"A Different Paper &lt;script&gt;alert(1)&lt;/script&gt; | pipes"**]'
    "(https://arxiv.org/pdf/2208.03111) @ **ICLR 2023**."
)
OLD = (
    '- Madry et al. [**"Towards Deep Learning Models Resistant to Adversarial Attacks"**]'
    "(https://arxiv.org/pdf/1706.06083) @ **ICLR 2018**."
)


@pytest.fixture(scope="module", params=["bundled", "larger"])
def base(request: pytest.FixtureRequest, bundled_text: str) -> str:
    text = bundled_text if request.param == "bundled" else larger_list(bundled_text)
    return text.replace("Neural Cleanse: Identifying and Mitigating", TYPO)


@pytest.fixture(scope="module")
def bundled_base(bundled_text: str) -> str:
    """The bundled list only: for the CLI and link checks, whose mechanics the list's size
    does not change (each CLI run loads the model in a fresh process)."""
    return bundled_text.replace("Neural Cleanse: Identifying and Mitigating", TYPO)


def make_head(
    base: str,
    right: str = "https://arxiv.org/pdf/2112.03570",
    wrong: str = "https://arxiv.org/pdf/2007.14321",
) -> str:
    lines = base.splitlines()
    gang = next(i for i, line in enumerate(lines) if "GangSweep" in line)
    del lines[gang]  # removed
    text = "\n".join(lines) + "\n"
    text = text.replace(TYPO, "Neural Cleanse: Identifying and Mitigating")  # edited
    cleansing = next(line for line in lines if "Backdoor Cleansing with Unlabeled Data" in line)
    text = text.replace(cleansing + "\n", "")
    text = text.replace(  # moved to the backdoor attack papers
        '#### Attack Papers\n\n- Zhu et al. [**"Breaking',
        f'#### Attack Papers\n\n{cleansing}\n- Zhu et al. [**"Breaking',
    )
    text = text.replace(
        "### Membership Inference Attacks\n",
        f"### Membership Inference Attacks\n\n{RIGHT.format(right=right)}\n",
    )
    text = text.replace(
        '- Li et al. [**"A Theoretical',
        f'{WRONG.format(wrong=wrong)}\n- Li et al. [**"A Theoretical',
    )
    text = text.replace("- Nguyen et al.", f"{DUPE}\n{COPIED}\n- Nguyen et al.")
    text = text.replace("- Croce et al.", f"{MALFORMED}\n- Croce et al.")
    text = text.replace("- Muravev et al.", f"{OLD}\n- Muravev et al.")
    return text


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.fixture(scope="module")
def report(real_library, base: str):
    return check_pr(real_library, base, make_head(base))


def test_added_removed_moved_edited(report, base: str) -> None:
    data = report.to_dict()
    head = make_head(base)
    added = {a["title"]: a for a in data["added"]}
    assert set(added) == {
        "Membership Inference Attacks From First Principles",
        "Label-Only Membership Inference Attacks",
        "DeepSight: Mitigating Backdoor Attacks in Federated Learning Through Deep Model Inspection",
        "A Different Paper <script>alert(1)</script> | pipes",
        "Towards Deep Learning Models Resistant to Adversarial Attacks",
    }
    assert added["Label-Only Membership Inference Attacks"]["line"] == line_of(head, "Label-Only")
    assert [p["title"] for p in data["removed"]] == ["GangSweep: Sweep out Neural Backdoors by GAN"]
    assert [m["head"]["title"] for m in data["moved"]] == ["Backdoor Cleansing with Unlabeled Data"]
    assert data["moved"][0]["head"]["section"][-1] == "Attack Papers"
    [edited] = data["edited"]
    assert edited["head"]["title"].startswith("Neural Cleanse: Identifying") and edited[
        "fields"
    ] == ["title"]


def test_placement(report) -> None:
    added = {a["title"]: a for a in report.to_dict()["added"]}
    right = added["Membership Inference Attacks From First Principles"]
    assert right["agrees"] is True and right["abstain"] is False
    wrong = added["Label-Only Membership Inference Attacks"]
    assert wrong["placed_in"][-1] == "Theory-driven Papers"
    assert wrong["agrees"] is False and wrong["abstain"] is False
    assert wrong["suggestions"][0]["section"][-1] == "Membership Inference Attacks"
    assert len(wrong["suggestions"]) == 3
    base_ids = {e for a in added.values() for s in a["suggestions"] for e in s["evidence"]}
    assert not base_ids & {a["id"] for a in added.values()}  # evidence only from BASE


def test_duplicates(report) -> None:
    added = {a["title"]: a for a in report.to_dict()["added"]}
    deepsight = added[
        "DeepSight: Mitigating Backdoor Attacks in Federated Learning Through Deep Model Inspection"
    ]
    assert deepsight["duplicates"][0]["reason"] == "same arXiv id"
    copied = added["A Different Paper <script>alert(1)</script> | pipes"]["duplicates"]
    assert copied[0]["reason"] == "same URL, different title"
    assert copied[0]["title"] == "Data-free Backdoor Removal based on Channel Lipschitzness"
    assert added["Membership Inference Attacks From First Principles"]["duplicates"] == []


def test_problems(report, base: str) -> None:
    head = make_head(base)
    problems = report.to_dict()["problems"]
    lines = {(p["line"], p["kind"]) for p in problems}
    assert (line_of(head, "<script>"), "format") in lines
    assert (line_of(head, "Towards Deep Learning Models"), "order") in lines
    croce = line_of(head, "Croce et al.")  # its empty link is old, not the PR's
    assert all(p["line"] != croce for p in problems)


def test_comment_marker_and_escaping(report) -> None:
    comment = render(report)
    assert comment.startswith(MARKER)
    assert "<img" not in comment and "<script" not in comment
    row = next(line for line in comment.splitlines() if "A Different Paper" in line)
    assert row.replace("\\|", "").count("|") == 5  # the title's pipe cannot split the table
    assert "suggest moving to **Security of ML Models › Membership Inference Attacks**" in comment
    assert "<details>" in comment


def test_cli_exit_codes_and_git(bundled_base: str, real_index_dir: Path, tmp_path: Path) -> None:
    base = bundled_base
    (tmp_path / "base.md").write_text(base)
    (tmp_path / "head.md").write_text(make_head(base))
    common = ("--index-dir", str(real_index_dir), "--no-build", "check-pr")
    found = run(*common, str(tmp_path / "base.md"), str(tmp_path / "head.md"), "--json")
    assert found.returncode == 1, found.stderr
    assert len(json.loads(found.stdout)["added"]) == 5
    missing = run(*common, str(tmp_path / "base.md"), str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@x"]
    (repo / "README.md").write_text(base)
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "README.md"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    clean = subprocess.run(
        [str(run.__globals__["EXE"]), *common, "--git", "HEAD", "--fail-on", "any"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert clean.returncode == 0, clean.stderr
    assert "0 added" in clean.stdout and clean.stdout.startswith(MARKER)
    (repo / "README.md").write_text(make_head(base))
    dirty = subprocess.run(
        [str(run.__globals__["EXE"]), *common, "--git", "HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dirty.returncode == 1 and "same arXiv id" in dirty.stdout


def test_endpoint(server_url: str, base: str) -> None:
    response = httpx.post(
        f"{server_url}/check-pr", json={"base": base, "head": make_head(base)}, timeout=60
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["added"]) == 5 and body["findings"]["duplicates"] == 2
    assert body["comment"].startswith(MARKER)
    too_big = httpx.post(
        f"{server_url}/check-pr", json={"base": "x" * 2_000_001, "head": ""}, timeout=60
    )
    assert too_big.status_code == 422


class _Stub(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        if self.path == "/dead":
            self.send_response(404)
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", f"http://localhost:{self.server.server_port}/elsewhere")
        else:
            self.send_response(200)
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, *args) -> None:
        return None


def test_check_links_against_a_local_stub(real_library, bundled_base: str) -> None:
    base = bundled_base
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_port
        head = make_head(
            base, right=f"http://127.0.0.1:{port}/dead", wrong=f"http://127.0.0.1:{port}/moved"
        )
        links = {x["url"]: x for x in check_pr(real_library, base, head, check_links=True).links}
    finally:
        server.shutdown()
    dead = links[f"http://127.0.0.1:{port}/dead"]
    assert (dead["kind"], dead["status"], dead["problem"]) == ("dead", 404, True)
    assert dead["line"] == line_of(head, "From First Principles")
    moved = links[f"http://127.0.0.1:{port}/moved"]
    assert moved["kind"] == "redirect-other-host" and moved["problem"] is True
