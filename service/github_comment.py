"""Create or update the one check-pr comment on a pull request, through GitHub's REST API.

Run by a workflow step with ``GITHUB_TOKEN`` in the environment (``GITHUB_API_URL``,
``GITHUB_REPOSITORY`` and ``GITHUB_EVENT_PATH`` are set by GitHub Actions)::

    secml-papers-comment --body report/comment.md                        # pull_request
    secml-papers-comment --body report/comment.md --pr-file report/pr.json  # workflow_run

The comment is the one whose body starts with the marker and whose author is the token's bot;
it is updated, never duplicated. Under ``workflow_run`` the report comes from an artifact
that the pull request's own workflow could have written, so the pull request it names is
checked against the event: it must be one of the run's ``pull_requests`` when GitHub lists
them (it does not for forks), and its head commit must be the run's ``head_sha``.

Only the standard library and httpx: the action runs this file without installing the
package (no model, no torch), so the job holding a write token installs nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

MARKER = "<!-- secml-papers:check-pr -->"  # the same as service/comment.py's (a test says so)
MAX_BODY = 65_536  # GitHub refuses longer comment bodies
MAX_FILE = 1_000_000
MAX_PAGES = 50  # 5,000 comments: past that, a loop rather than a pull request
BOT = "github-actions[bot]"
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class GitHubError(Exception):
    """A refusal or a failed check, said in one line; the exit status is ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class GitHub:
    """The three calls the comment needs, and a pull request's head, on one repository."""

    def __init__(self, api: str, token: str, repo: str, client: httpx.Client | None = None):
        self.api = api.rstrip("/")
        self.repo = repo
        self.http = client or httpx.Client(timeout=30.0)
        self.http.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "secml-papers-comment",
            }
        )

    def _call(self, method: str, url: str, body: dict | None = None) -> httpx.Response:
        path = urlsplit(url).path
        try:
            response = self.http.request(method, url, json=body)
        except httpx.HTTPError as err:
            raise GitHubError(f"cannot reach {self.api} ({type(err).__name__}: {err})") from err
        if response.status_code >= 400:
            raise GitHubError(_refusal(method, path, response))
        return response

    def pull(self, number: int) -> dict:
        return self._call("GET", f"{self.api}/repos/{self.repo}/pulls/{number}").json()

    def comments(self, number: int) -> Iterator[dict]:
        """Every comment on the pull request, page by page as the Link header leads; a next
        page on another host is not followed (the token goes only to the API)."""
        url: str | None = f"{self.api}/repos/{self.repo}/issues/{number}/comments?per_page=100"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self._call("GET", url)
            yield from response.json()
            url = response.links.get("next", {}).get("url")
            if url is not None and not _same_origin(url, self.api):
                raise GitHubError(f"the API's next page is on another host: {url}")
        raise GitHubError(f"more than {MAX_PAGES} pages of comments on #{number}")

    def create(self, number: int, body: str) -> dict:
        url = f"{self.api}/repos/{self.repo}/issues/{number}/comments"
        return self._call("POST", url, {"body": body}).json()

    def update(self, comment_id: int, body: str) -> dict:
        url = f"{self.api}/repos/{self.repo}/issues/comments/{comment_id}"
        return self._call("PATCH", url, {"body": body}).json()


def _same_origin(url: str, api: str) -> bool:
    a, b = urlsplit(url), urlsplit(api)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _refusal(method: str, path: str, response: httpx.Response) -> str:
    try:
        said = str(response.json().get("message", "")).strip()
    except (ValueError, AttributeError):
        said = ""
    said = " ".join(said.split())[:200] or response.reason_phrase
    line = f"GitHub answered {response.status_code} to {method} {path}: {said}"
    if response.status_code == 403:
        line += (
            " (the token may not write here: a pull request from a fork gets a read-only "
            "token, so post from a workflow_run workflow, see docs/github.md)"
        )
    elif response.status_code == 404:
        line += " (no such repository or pull request, or the token cannot see it)"
    elif response.status_code == 401:
        line += " (the token is missing, expired or wrong)"
    return line


def upsert(github: GitHub, number: int, body: str, author: str | None = BOT) -> tuple[str, dict]:
    """Update the marked comment of ``author`` on the pull request, or create it."""
    for comment in github.comments(number):
        text = comment.get("body") or ""
        login = (comment.get("user") or {}).get("login")
        if text.startswith(MARKER) and (not author or login == author):
            return "updated", github.update(comment["id"], body)
    return "created", github.create(number, body)


def target(event: dict, claim: dict | None) -> tuple[int, str | None]:
    """The pull request to comment on, and the head commit it must have (None: no check).

    ``claim`` is what the artifact says (``{"number", "head_sha"}``): untrusted data.
    """
    claimed = None if claim is None else claim.get("number")
    if claimed is not None and (type(claimed) is not int or claimed <= 0):
        raise GitHubError(f"the report names no valid pull request number: {claimed!r}", 2)
    run = event.get("workflow_run")
    if isinstance(run, dict):
        if run.get("event") != "pull_request":
            raise GitHubError(
                f"the triggering run was for {run.get('event')!r}, not a pull request"
            )
        if claimed is None:
            raise GitHubError("the report names no pull request (pr.json is missing)", 2)
        listed = [p.get("number") for p in run.get("pull_requests") or []]
        if listed and claimed not in listed:
            raise GitHubError(f"the report names #{claimed}, but the run was for {listed}")
        head = run.get("head_sha")
        if not isinstance(head, str) or not _SHA.match(head):
            raise GitHubError("the workflow_run event has no head_sha to check the report against")
        if claim and claim.get("head_sha") not in (None, head):
            raise GitHubError(
                f"the report was made for {claim.get('head_sha')}, the run for {head}"
            )
        return claimed, head
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        if claimed is not None and claimed != pull["number"]:
            raise GitHubError(f"the report names #{claimed}, the event #{pull['number']}")
        return pull["number"], None
    if claimed is None:
        raise GitHubError("no pull request: give --pr N (or run on a pull_request event)", 2)
    return claimed, None


def _read(path: str | None, what: str) -> str | None:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(MAX_FILE)
    except (OSError, UnicodeDecodeError) as err:
        raise GitHubError(f"cannot read the {what} {path}: {err}", 2) from err


def _json(path: str | None, what: str) -> dict | None:
    text = _read(path, what)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise GitHubError(f"the {what} {path} is not JSON: {err}", 2) from err
    if not isinstance(data, dict):
        raise GitHubError(f"the {what} {path} is not a JSON object", 2)
    return data


def prepare(body: str) -> str:
    """The body as posted: starting with the marker, within GitHub's length limit."""
    if not body.startswith(MARKER):
        body = f"{MARKER}\n{body}"
    if len(body) > MAX_BODY:
        note = "\n\n… (cut: the full report is in the workflow run's summary and artifact)\n"
        body = body[: MAX_BODY - len(note)] + note
    return body


def run(argv: list[str] | None = None, client: httpx.Client | None = None) -> str:
    """What ``main`` does, raising :class:`GitHubError`; the line to print on success."""
    parser = argparse.ArgumentParser(
        prog="secml-papers-comment", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--body", required=True, help="the comment's Markdown (comment.md)")
    parser.add_argument("--pr", type=int, help="the pull request's number")
    parser.add_argument("--pr-file", help="pr.json from the report: {number, head_sha}")
    parser.add_argument("--event", default=os.environ.get("GITHUB_EVENT_PATH"))
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"))
    parser.add_argument("--author", default=BOT, help="whose marked comment to update ('' any)")
    args = parser.parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise GitHubError("GITHUB_TOKEN is not set: pass the workflow's token in env", 2)
    if not args.repo or not _REPO.match(args.repo):
        raise GitHubError(f"give the repository as OWNER/NAME (--repo), not {args.repo!r}", 2)
    claim = _json(args.pr_file, "pull request file")
    if args.pr is not None:
        claim = {**(claim or {}), "number": args.pr}
    number, head = target(_json(args.event, "event file") or {}, claim)
    body = prepare(_read(args.body, "comment body") or "")
    api = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    github = GitHub(api, token, args.repo, client)
    if head is not None:
        pull = github.pull(number)
        actual = (pull.get("head") or {}).get("sha")
        if actual != head:
            raise GitHubError(
                f"#{number}'s head is {actual}, not the checked {head}: not commenting "
                "(a newer push has its own run, or the report names another pull request)"
            )
    done, comment = upsert(github, number, body, args.author or None)
    return f"{done} comment {comment.get('id')} on #{number}: {comment.get('html_url', '')}"


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line on stdout, or one line on stderr and exit 1 (GitHub refused or
    a check failed) or 2 (usage); never a traceback."""
    try:
        print(run(argv))
    except GitHubError as err:
        sys.stderr.write(f"error: {err}\n")
        sys.exit(err.code)


if __name__ == "__main__":
    main()
