"""check-pr's report for GitHub Actions: workflow-command annotations and the job summary.

An annotation is one line on the step's stdout that GitHub turns into a mark on the diff,
at the file and line it names::

    ::error file=README.md,line=46,title=secml-papers%3A malformed entry::found no link, ...

Titles and messages come from the pull request, so they are escaped as GitHub's toolkit
escapes them (``%``, CR and LF in the message; those and ``:`` and ``,`` in a property): a
crafted title can neither end the annotation early nor start a workflow command of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from secml_papers.corpus.atomic import SHARED, write_atomic
from secml_papers.corpus.errors import InputError
from secml_papers.service.checkpr import CheckReport
from secml_papers.service.comment import render

# The advice a kind of problem gives, as GitHub's three levels: an error for what is wrong with
# an entry (malformed, a duplicate), a warning for order and placement advice, a notice for
# what only a careful maintainer would ask.
_LEVEL = {
    "format": "error",
    "order": "warning",
    "placement": "warning",
    "structure": "warning",
    "style": "notice",
}
_TITLE = {
    "format": "malformed entry",
    "order": "year order",
    "placement": "placement",
    "structure": "list structure",
    "style": "style",
}


@dataclass(frozen=True)
class Annotation:
    level: str  # error, warning or notice
    file: str
    line: int
    title: str
    message: str

    def command(self) -> str:
        """The workflow command, escaped.

        >>> Annotation("error", "README.md", 3, "a: b", "50% off\\n::error::x").command()
        '::error file=README.md,line=3,title=a%3A b::50%25 off%0A::error::x'
        """
        props = f"file={escape_property(self.file)},line={self.line}"
        props += f",title={escape_property(self.title)}"
        return f"::{self.level} {props}::{escape_data(self.message)}"


def escape_data(text: str) -> str:
    """A message as GitHub's toolkit escapes it (``escapeData`` in @actions/core)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title) as @actions/core's ``escapeProperty`` does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _section(path: Sequence[str]) -> str:
    return " › ".join(path) if path else "(no section)"


def annotations(report: CheckReport, file: str) -> list[Annotation]:
    """Every finding of ``report`` on the lines of ``file`` (the list in HEAD), in line order."""
    return sorted(_annotations(report.to_dict(), file), key=lambda a: (a.line, a.level))


def _annotations(data: dict, file: str) -> Iterator[Annotation]:
    for added in data["added"]:
        line, title = added["line"], added["title"]
        for dupe in added["duplicates"]:
            yield Annotation(
                "error",
                file,
                line,
                "secml-papers: duplicate",
                f"{dupe['reason']} of “{dupe['title']}” ({dupe['id']})",
            )
        verdict = added.get("verdict")
        confidence = added.get("verdict_confidence", 0.0)
        target = _section(added.get("verdict_section") or [])
        if verdict == "move":
            yield Annotation(
                "warning",
                file,
                line,
                "secml-papers: placement",
                f"{title}: suggest moving to {target} (confidence {confidence:.2f})",
            )
        elif verdict == "unsure" and added["suggestions"]:
            yield Annotation(
                "notice",
                file,
                line,
                "secml-papers: placement",
                f"{title}: unsure of its section (best: {target}, {confidence:.2f})",
            )
    for problem in data["problems"]:
        kind = problem.get("kind", "format")
        yield Annotation(
            _LEVEL.get(kind, "error"),
            file,
            problem["line"],
            f"secml-papers: {_TITLE.get(kind, kind)}",
            problem["message"],
        )
    for link in data["links"]:
        if link.get("problem"):
            yield Annotation(
                "warning",
                file,
                link["line"],
                "secml-papers: link",
                f"{link['url']}: {link['kind']}: {link['detail']}",
            )


def github_output(report: CheckReport, file: str) -> str:
    """The annotations as stdout lines; the Markdown report is appended to the job summary
    (``$GITHUB_STEP_SUMMARY``) when the step runs on GitHub Actions."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as out:
                out.write(f"#### `{file}`\n\n" if file else "")
                out.write(render(report) + "\n")
        except OSError as err:
            raise InputError(f"cannot append to GITHUB_STEP_SUMMARY ({summary}): {err}") from err
    return "".join(a.command() + "\n" for a in annotations(report, file))


def save_report(report: CheckReport, directory: Path) -> None:
    """``comment.md`` (the comment's body) and ``report.json`` in ``directory``, for a later
    step or an artifact that another workflow posts."""
    body = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / "comment.md", render(report), SHARED)
        write_atomic(directory / "report.json", body, SHARED)
    except OSError as err:
        raise InputError(f"cannot write the report to {directory}: {err.strerror or err}") from err
