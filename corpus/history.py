"""A list's past, read from its git repository: one version per first-parent step.

A merged pull request is one step on the first-parent line (its BASE is the first parent), so
walking that line replays the contributions the maintainers accepted, in order. A list kept in
several files (one per topic) is read as one list whose top-level sections are the files.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from secml_papers.corpus.errors import InputError
from secml_papers.corpus.parse import parse_list
from secml_papers.corpus.records import PaperList, Section

README_NAMES = ("README.md", "readme.md", "Readme.md", "README.markdown")


@dataclass(frozen=True)
class Step:
    """One first-parent commit that changed the list, with its first parent as BASE."""

    commit: str
    parent: str | None
    date: str  # the commit date, ISO 8601
    subject: str


def _git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), *args], input=data, capture_output=True, check=False
        )
    except OSError as err:
        raise InputError(f"git could not be run ({err})") from err
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(f"git {args[0]} failed in {repo}: {reason[-1] if reason else '?'}")
    return result.stdout


def check_repository(repo: Path) -> Path:
    """The repository's top folder; one sentence when ``repo`` is not a git repository."""
    if not repo.is_dir():
        raise InputError(f"{repo} is not a folder")
    try:
        top = _git(repo, "rev-parse", "--show-toplevel").decode().strip()
    except InputError:
        raise InputError(f"{repo} is not a git repository") from None
    if not _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip():
        raise InputError(f"{repo} has no commits")
    return Path(top)


def repository_of(file: Path) -> tuple[Path, str] | None:
    """The git repository holding ``file`` and the file's path in it, or None when the file
    is not tracked by one (a list given by URL, the bundled list, a loose file)."""
    if not file.is_file():
        return None
    try:
        top = _git(file.parent, "rev-parse", "--show-toplevel").decode().strip()
        name = str(file.resolve().relative_to(Path(top).resolve()))
        _git(Path(top), "ls-files", "--error-unmatch", name)
    except (InputError, ValueError):
        return None
    return Path(top), name


def default_paths(repo: Path) -> tuple[str, ...]:
    """The README at the top of the current tree, the usual home of an awesome list."""
    names = _git(repo, "ls-tree", "--name-only", "HEAD").decode().splitlines()
    for name in README_NAMES:
        if name in names:
            return (name,)
    raise InputError(f"{repo} has no README.md at its top; name the list's file with --path")


def steps(
    repo: Path, paths: Sequence[str], since: str | None = None, limit: int | None = None
) -> list[Step]:
    """First-parent commits that changed a file matching ``paths``, oldest first.

    ``paths`` are git pathspecs relative to the repository's top (globs such as
    ``collection/paper/*/*.md`` work). ``limit`` keeps the most recent steps.
    """
    args = ["log", "--first-parent", "--diff-merges=first-parent", "--reverse"]
    args += ["--format=%H%x1f%P%x1f%cI%x1f%s"]
    if since:
        args.append(f"--since={since}")
    out = _git(repo, *args, "--", *[f":(glob){p}" for p in paths]).decode(errors="replace")
    found = []
    for line in out.splitlines():
        if "\x1f" not in line:
            continue
        commit, parents, date, subject = line.split("\x1f", 3)
        parent = parents.split()[0] if parents.strip() else None
        found.append(Step(commit, parent, date, subject))
    if not found and not since:
        raise InputError(f"no commit of {repo} holds {', '.join(paths)}")
    if limit is not None:
        found = found[-limit:] if limit > 0 else []
    return found


def files_at(repo: Path, commit: str, paths: Sequence[str]) -> list[str]:
    """The files matching ``paths`` in ``commit``'s tree, sorted."""
    names = _git(repo, "ls-tree", "-r", "--name-only", commit).decode().splitlines()
    return sorted(n for n in names if any(_matches(n, p) for p in paths))


def _matches(name: str, pattern: str) -> bool:
    return name == pattern or fnmatch.fnmatchcase(name, pattern)


class Reader:
    """Reads files at commits through one long-lived ``git cat-file --batch``."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._process: subprocess.Popen | None = None

    def read(self, commit: str, path: str) -> str | None:
        if self._process is None:
            self._process = subprocess.Popen(
                ["git", "-C", str(self.repo), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"{commit}:{path}\n".encode())
        process.stdin.flush()
        header = process.stdout.readline().decode().split()
        if len(header) < 3 or header[1] != "blob":
            return None
        data = process.stdout.read(int(header[2]))
        process.stdout.read(1)  # the newline after the object
        return data.decode("utf-8-sig", errors="replace")

    def close(self) -> None:
        if self._process is not None:
            if self._process.stdin:
                self._process.stdin.close()
            self._process.wait(timeout=10)
            self._process = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def list_at(reader: Reader, commit: str | None, paths: Sequence[str]) -> PaperList:
    """The list as it stood at ``commit`` (an empty list before the first commit)."""
    if commit is None:
        return PaperList(title=None)
    names = files_at(reader.repo, commit, paths)
    texts = [(name, reader.read(commit, name) or "") for name in names]
    if not is_multi(paths):
        return parse_list(texts[0][1]) if texts else PaperList(title=None)
    return combine([(name, parse_list(text)) for name, text in texts])


def is_multi(paths: Sequence[str]) -> bool:
    """Whether ``paths`` may name several files (more than one, or a glob)."""
    return len(paths) > 1 or any(c in p for p in paths for c in "*?[")


def combine(parts: Sequence[tuple[str, PaperList]]) -> PaperList:
    """One list of several files: each file becomes a top-level section named by its title
    (else its path), so an entry moved from one file to another is a move between sections.
    """
    papers, sections = [], []
    for name, parsed in parts:
        top = (parsed.title or Path(name).stem,)
        has_sub = bool(parsed.sections)
        count = sum(1 for p in parsed.papers if not p.section)
        sections.append(Section(top, 0, count, has_subsections=has_sub))
        sections += [replace(s, path=top + s.path) for s in parsed.sections]
        papers += [replace(p, section=top + p.section) for p in parsed.papers]
    return PaperList(title=None, papers=tuple(papers), sections=tuple(sections))


def versions(
    repo: Path, paths: Sequence[str], chosen: Sequence[Step]
) -> Iterator[tuple[Step, PaperList, PaperList]]:
    """(step, BASE, HEAD) for each step, each version parsed once.

    ``chosen`` is a run of consecutive steps of ``steps``: no first-parent commit between two
    of them changed the list, so a step's BASE is the previous step's HEAD, not read again.
    """
    with Reader(repo) as reader:
        previous: PaperList | None = None
        for step in chosen:
            base = previous if previous is not None else list_at(reader, step.parent, paths)
            previous = list_at(reader, step.commit, paths)
            yield step, base, previous
