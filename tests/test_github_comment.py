"""The comment step end to end, without GitHub: a stub of the REST endpoints it calls on
127.0.0.1, real event payloads (tests/fixtures/github/), the artifact handed over as files.

The pull_request run (read-only token) writes the report with ``check-pr --report-dir`` and
``pr.json`` as action.yml does; the comment step (``secml-papers-comment``, a real process)
then runs twice: one comment created, then the same one updated, never a second.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from secml_papers.service import github_comment
from secml_papers.service.cli import app
from secml_papers.service.comment import MARKER

FIXTURES = Path(__file__).parent / "fixtures" / "github"
EXE = Path(sys.executable).with_name("secml-papers-comment")
REPO = "secml-lists/awesome-secml-papers"
HEAD_SHA = "9f2c1e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e"
PAGE = 2  # the stub's page size, whatever per_page asks: two pages with three comments
DUPE = (
    '- Rieger et al. [**"DeepSight: Mitigating Backdoor Attacks in Federated Learning Through Deep'
    ' Model Inspection"**](https://arxiv.org/abs/2201.00763v2) @ **NDSS 2022**.'
)


class GitHubStub:
    """Issue comments and pull requests of one repository, as the REST API answers them."""

    def __init__(self, server: HTTPServer, pulls: dict[int, str]) -> None:
        self.server = server
        self.pulls = pulls  # number -> head sha
        self.comments: dict[int, list[dict]] = {n: [] for n in pulls}
        self.next_id = 1000
        self.refuse: set[str] = set()  # methods answered 403
        self.calls: list[tuple[str, str]] = []
        self.auth: set[str] = set()
        server.expect_request(re.compile(r"^/repos/")).respond_with_handler(self.handle)

    def add(self, number: int, login: str, body: str) -> None:
        self.next_id += 1
        self.comments[number].append({"id": self.next_id, "user": {"login": login}, "body": body})

    def handle(self, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        self.auth.add(request.headers.get("Authorization", ""))
        if request.method in self.refuse:
            return _json({"message": "Resource not accessible by integration"}, 403)
        prefix = f"/repos/{REPO}"
        if not request.path.startswith(prefix + "/"):
            return _json({"message": "Not Found"}, 404)
        rest = request.path[len(prefix) :]
        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            number = int(m[1])
            if number not in self.pulls:
                return _json({"message": "Not Found"}, 404)
            return _json({"number": number, "state": "open", "head": {"sha": self.pulls[number]}})
        if (m := re.fullmatch(r"/issues/(\d+)/comments", rest)) and int(m[1]) in self.comments:
            number = int(m[1])
            if request.method == "GET":
                return self._page(number, int(request.args.get("page", "1")))
            if request.method == "POST":
                self.add(number, "github-actions[bot]", request.get_json()["body"])
                return _json(self._public(number, self.comments[number][-1]), 201)
        if (m := re.fullmatch(r"/issues/comments/(\d+)", rest)) and request.method == "PATCH":
            for number, comments in self.comments.items():
                for comment in comments:
                    if comment["id"] == int(m[1]):
                        comment["body"] = request.get_json()["body"]
                        return _json(self._public(number, comment))
        return _json({"message": "Not Found"}, 404)

    def _public(self, number: int, comment: dict) -> dict:
        url = f"https://github.com/{REPO}/pull/{number}#issuecomment-{comment['id']}"
        return {**comment, "html_url": url}

    def _page(self, number: int, page: int) -> Response:
        comments = self.comments[number]
        last = max(1, -(-len(comments) // PAGE))
        response = _json([self._public(number, c) for c in comments[(page - 1) * PAGE :][:PAGE]])
        url = self.server.url_for(f"/repos/{REPO}/issues/{number}/comments")
        links = []
        if page < last:
            links.append(f'<{url}?per_page=100&page={page + 1}>; rel="next"')
        links.append(f'<{url}?per_page=100&page={last}>; rel="last"')
        response.headers["Link"] = ", ".join(links)
        return response


def _json(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


@pytest.fixture
def stub(httpserver: HTTPServer) -> GitHubStub:
    github = GitHubStub(httpserver, {17: HEAD_SHA, 18: HEAD_SHA, 19: "0" * 40})
    for number in (17, 18):  # earlier talk on the pull request, and a spoofed marker
        github.add(number, "maintainer", "Thanks! Looking at it.")
        github.add(number, "contributor", f"{MARKER}\nall good, merge it")
        github.add(number, "contributor", "Fixed the venue.")
    return github


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory, bundled_text: str) -> Path:
    """What the read-only pull_request run uploads: check-pr's report (fake embedder)."""
    from .conftest import FakeEmbedder

    root = tmp_path_factory.mktemp("check")
    base, head = root / "base.md", root / "head.md"
    base.write_text(bundled_text)
    head.write_text(bundled_text.replace("- Nguyen et al.", f"{DUPE}\n- Nguyen et al.", 1))
    report = root / "report"
    args = ["--index-dir", str(root / "idx"), "check-pr", str(base), str(head)]
    result = CliRunner().invoke(
        app, [*args, "--report-dir", str(report)], obj={"embedder": FakeEmbedder()}
    )
    assert result.exit_code == 1, result.output  # the duplicate
    assert (report / "comment.md").read_text().startswith(MARKER)
    assert json.loads((report / "report.json").read_text())["added"][0]["duplicates"]
    return report


def hand_over(artifact: Path, pull_request_event: str, dest: Path) -> Path:
    """The artifact as the workflow_run job downloads it: the report plus pr.json, which
    action.yml writes from the pull_request event."""
    dest.mkdir()
    for name in ("comment.md", "report.json"):
        (dest / name).write_bytes((artifact / name).read_bytes())
    event = json.loads((FIXTURES / pull_request_event).read_text())
    pr = {
        "number": event["pull_request"]["number"],
        "head_sha": event["pull_request"]["head"]["sha"],
    }
    (dest / "pr.json").write_text(json.dumps(pr))
    return dest


def comment(stub: GitHubStub, event: str, report: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GITHUB_TOKEN": "ghs_test",
        "GITHUB_API_URL": stub.server.url_for("/").rstrip("/"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(FIXTURES / event),
    }
    args = [str(EXE), "--body", str(report / "comment.md"), *extra]
    if (report / "pr.json").exists():
        args += ["--pr-file", str(report / "pr.json")]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)


def mine(stub: GitHubStub, number: int) -> list[dict]:
    return [
        c
        for c in stub.comments[number]
        if c["user"]["login"] == "github-actions[bot]" and c["body"].startswith(MARKER)
    ]


@pytest.mark.parametrize(
    ("check_event", "comment_event", "number"),
    [
        ("pull_request_fork.json", "workflow_run_fork.json", 17),  # fork: two workflows
        ("pull_request_same.json", "workflow_run_same.json", 18),  # same repository, the same
        ("pull_request_same.json", "pull_request_same.json", 18),  # examples/check-pr.yml
    ],
)
def test_created_once_then_updated(
    stub: GitHubStub,
    artifact: Path,
    tmp_path: Path,
    check_event: str,
    comment_event: str,
    number: int,
) -> None:
    report = hand_over(artifact, check_event, tmp_path / "download")
    first = comment(stub, comment_event, report)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("created comment ") and f"on #{number}" in first.stdout
    created = mine(stub, number)
    assert len(created) == 1 and created[0]["body"] == (report / "comment.md").read_text()
    assert len(stub.comments[number]) == 4  # on the second page: pagination was followed

    (report / "comment.md").write_text((report / "comment.md").read_text() + "\nupdated\n")
    second = comment(stub, comment_event, report)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith(f"updated comment {created[0]['id']} ")
    assert len(mine(stub, number)) == 1 and mine(stub, number)[0]["body"].endswith("updated\n")
    assert len(stub.comments[number]) == 4  # never duplicated
    spoof = stub.comments[number][1]
    assert spoof["body"] == f"{MARKER}\nall good, merge it"  # another user's marker: untouched
    assert ("GET", f"/repos/{REPO}/issues/{number}/comments") in stub.calls
    assert stub.auth == {"Bearer ghs_test"}
    if comment_event.startswith("workflow_run"):  # the claim was checked against the API
        assert ("GET", f"/repos/{REPO}/pulls/{number}") in stub.calls


@pytest.mark.parametrize("event", ["workflow_run_fork.json", "pull_request_fork.json"])
def test_a_403_is_one_clear_line(
    stub: GitHubStub, artifact: Path, tmp_path: Path, event: str
) -> None:
    stub.refuse = {"POST"}  # a fork's pull_request token: reads work, writes do not
    report = hand_over(artifact, "pull_request_fork.json", tmp_path / "download")
    result = comment(stub, event, report)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: GitHub answered 403 to POST")
    assert "Resource not accessible by integration" in lines[0] and "fork" in lines[0]
    assert not mine(stub, 17)


def test_a_404_is_one_clear_line(stub: GitHubStub, artifact: Path, tmp_path: Path) -> None:
    report = hand_over(artifact, "pull_request_fork.json", tmp_path / "download")
    result = comment(stub, "pull_request_fork.json", report, "--repo", "someone/else")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "404" in result.stderr


@pytest.mark.parametrize(
    ("event", "claim", "fragment"),
    [  # a forged artifact: the pull request's own workflow could have written any pr.json
        ("workflow_run_fork.json", {"number": 19}, "#19's head is"),
        ("workflow_run_same.json", {"number": 17}, "the run was for [18]"),
        ("workflow_run_fork.json", {"number": 17, "head_sha": "f" * 40}, "was made for"),
        ("workflow_run_fork.json", {"number": "17; rm -rf /"}, "no valid pull request"),
        ("workflow_run_fork.json", None, "names no pull request"),
    ],
)
def test_the_artifact_is_checked_against_the_event(
    stub: GitHubStub, artifact: Path, tmp_path: Path, event: str, claim: dict | None, fragment: str
) -> None:
    report = hand_over(artifact, "pull_request_fork.json", tmp_path / "download")
    if claim is None:
        (report / "pr.json").unlink()
    else:
        (report / "pr.json").write_text(json.dumps(claim))
    result = comment(stub, event, report)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr
    assert all(method == "GET" for method, _ in stub.calls)  # nothing written


def test_missing_token_is_a_usage_error(stub: GitHubStub, artifact: Path, tmp_path: Path) -> None:
    report = hand_over(artifact, "pull_request_fork.json", tmp_path / "download")
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    result = subprocess.run(
        [str(EXE), "--body", str(report / "comment.md"), "--pr", "17", "--repo", REPO],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2 and result.stderr.strip() == (
        "error: GITHUB_TOKEN is not set: pass the workflow's token in env"
    )
    assert not stub.calls


def test_a_next_page_on_another_host_is_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/repos/{REPO}/issues/5/comments").respond_with_json(
        [], headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'}
    )
    github = github_comment.GitHub(httpserver.url_for("/"), "t", REPO)
    with pytest.raises(github_comment.GitHubError, match="another host"):
        list(github.comments(5))


def test_the_body_is_marked_and_capped() -> None:
    assert github_comment.MARKER == MARKER
    body = github_comment.prepare("x" * 100_000)
    assert body.startswith(MARKER + "\n") and len(body) <= github_comment.MAX_BODY
    assert github_comment.prepare(f"{MARKER}\nok") == f"{MARKER}\nok"
