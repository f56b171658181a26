"""A synthetic list history for benchmarks: a README.md that grows over many first-parent
commits, built with ``git fast-import`` (``bench/performance/perf_replay.py`` replays it).

About a third of the adding steps are pull requests merged with ``--no-ff`` (one or two
commits on a branch, one step on the first-parent line); now and then a maintainer moves an
entry to another section, and a paper added twice is removed a few steps later. The entries
are the data set's distinct papers (bench/common/datasets.py) in the bundled list's format,
one section per OWASP category and paper type; past those, more entries are titled with the
first 12 words of a paper's tldr or of its abstract's first sentences.
"""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench.common.datasets import _entry, _kind, distinct_papers

Section = tuple[str, str]
START = 1546300800  # 2019-01-01, the first commit
INTRO = (
    "A list of papers on the security of machine learning, by OWASP ML Top 10 risk and kind "
    "of paper."
)


def _variants(paper: dict) -> list[str]:
    """Title-like texts from a paper's tldr and abstract: the first 12 words of a sentence."""
    out = []
    for key, sentences in (("tldr", 1), ("abstract", 2)):
        for sentence in re.split(r"(?<=[.!?])\s+", str(paper.get(key) or ""))[:sentences]:
            words = sentence.rstrip(".").split()
            if len(words) >= 5:
                out.append(" ".join(words[:12]).rstrip(",;:"))
    return out


def pool(entries: int, seed: int) -> list[dict]:
    """``entries`` papers, oldest year first: the data set's, then variants of them."""
    papers = distinct_papers()
    sizes: dict[Section, int] = {}
    for p in papers:
        sizes[(p["category"], _kind(p))] = sizes.get((p["category"], _kind(p)), 0) + 1
    papers = [p for p in papers if sizes[(p["category"], _kind(p))] >= 3]
    chosen, seen_urls, seen_titles = [], set(), set()
    rounds = [[p] for p in papers] + [
        [{**p, "title": t, "variant": True} for p in papers for t in _variants(p)[i : i + 1]]
        for i in range(3)
    ]
    for p in (p for batch in rounds for p in batch):
        if len(chosen) == entries:
            break
        if p["title"].lower() in seen_titles:
            continue
        url = str(p.get("pdf_url") or p.get("url") or "")
        if p.get("variant") or not url or url in seen_urls:
            url = f"https://example.org/papers/{len(chosen)}"
        seen_urls.add(url)
        seen_titles.add(p["title"].lower())
        chosen.append({**p, "pdf_url": url, "section": (p["category"], _kind(p))})
    if len(chosen) < entries:
        raise SystemExit(f"the data set gives {len(chosen)} entries, fewer than {entries}")
    rng = random.Random(seed)
    return sorted(chosen, key=lambda p: int(p.get("year") or 0) + rng.random() * 3)


def render(sections: dict[Section, list[str]]) -> str:
    """The README: sections sorted by category and kind, newest entry first in each."""
    lines = ["# Awesome ML Security Papers", "", INTRO, ""]
    category = None
    for (cat, kind), entries in sorted(sections.items()):
        if cat != category:
            lines += [f"## {cat}", ""]
            category = cat
        lines += [f"### {kind}", "", *entries, ""]
    return "\n".join(lines)


def plan(steps: int, entries: int, rng: random.Random) -> list[tuple[str, int]]:
    """(kind, entries added) per first-parent step: "add", "merge" (a pull request),
    "dup" (adds a paper listed already, besides its entries), "move", "remove" (the dup)."""
    specials = max(3, steps // 12)
    chosen = rng.sample(range(max(1, steps // 10), steps - 10), specials)
    moves, dups = set(chosen[: specials * 2 // 3]), sorted(chosen[specials * 2 // 3 :])
    kinds: list[str | None] = [None] * steps
    for i in moves:
        kinds[i] = "move"
    for d in dups:
        kinds[d] = "dup"
        r = d + rng.randint(2, 6)
        while kinds[r] is not None or r in dups:
            r += 1
        kinds[r] = "remove"
    for i, kind in enumerate(kinds):
        if kind is None:
            kinds[i] = "merge" if i and rng.random() < 0.35 else "add"
    adding = [i for i, k in enumerate(kinds) if k in ("add", "merge", "dup")]
    first = min(12, entries // 10)
    if entries - first < len(adding) - 1:
        raise SystemExit(f"{entries} entries cannot grow over {len(adding)} adding steps")
    counts = dict.fromkeys(adding, 1)
    counts[0] = first
    for i in rng.choices(adding[1:], k=entries - first - (len(adding) - 1)):
        counts[i] += 1
    return [(str(k), counts.get(i, 0)) for i, k in enumerate(kinds)]


class FastImport:
    """A ``git fast-import`` stream: blobs and commits, marks counted here."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.mark = 0

    def _data(self, text: str) -> None:
        raw = text.encode()
        self.parts.append(f"data {len(raw)}\n".encode() + raw + b"\n")

    def commit(self, ref: str, when: int, message: str, readme: str, parents: Sequence[int]) -> int:
        self.mark += 1
        self.parts.append(f"blob\nmark :{self.mark}\n".encode())
        self._data(readme)
        blob = self.mark
        self.mark += 1
        who = f"Bench Contributor <bench@example.org> {when} +0000"
        self.parts.append(f"commit {ref}\nmark :{self.mark}\ncommitter {who}\n".encode())
        self._data(message)
        for word, parent in zip(("from", "merge"), parents, strict=False):
            if parent:  # 0: the first commit, no parent
                self.parts.append(f"{word} :{parent}\n".encode())
        self.parts.append(f"M 100644 :{blob} README.md\n\n".encode())
        return self.mark

    def write(self, repo: Path) -> None:
        git = ["git", "-C", str(repo)]
        subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
        subprocess.run([*git, "fast-import", "--quiet"], input=b"".join(self.parts), check=True)
        subprocess.run([*git, "checkout", "-q", "-f", "main"], check=True)


def build_history(repo: Path, steps: int, entries: int, seed: int = 0) -> dict:
    """The repository, and what its history holds."""
    rng = random.Random(seed)
    papers = iter(pool(entries, seed))
    sections: dict[Section, list[str]] = {}
    listed: list[tuple[Section, str, int]] = []  # (section, line, step added)
    moved: set[str] = set()
    stream, main, when, pr = FastImport(), 0, START, 0
    counts = {"merges": 0, "moves": 0, "duplicates_removed": 0, "branch_commits": 0}
    duplicates: list[tuple[Section, str]] = []  # added, not removed yet (oldest first)
    for i, (kind, n) in enumerate(plan(steps, entries, rng)):
        when += rng.randint(1, 5) * 86400
        new = [next(papers) for _ in range(n)]
        lines = [(p["section"], _entry(p)) for p in new]
        if kind == "dup":  # a paper listed already, from another source, in its category
            section, line, _ = rng.choice([e for e in listed if i - e[2] >= 5])
            url = f"https://example.org/duplicate/{i}"
            again = re.sub(r"\]\([^)]*\)", f"]({url})", line, count=1)
            others = [s for s in sections if s[0] == section[0]]
            duplicates.append((rng.choice(others), again))
            lines.append(duplicates[-1])
        if kind == "move":  # an entry moved to another section of its category
            movable = [
                e
                for e in listed
                if e[1] not in moved and len(sections[e[0]]) >= 4 and i - e[2] >= 3
            ]
            section, line, _ = rng.choice(movable)
            targets = [s for s in sections if s[0] == section[0] and s != section and sections[s]]
            target = rng.choice(targets or [s for s in sections if s != section and sections[s]])
            sections[section].remove(line)
            sections[target].insert(0, line)
            moved.add(line)
            counts["moves"] += 1
            main = stream.commit("refs/heads/main", when, "Move an entry", render(sections), [main])
            continue
        if kind == "remove":
            section, line = duplicates.pop(0)
            sections[section].remove(line)
            counts["duplicates_removed"] += 1
            message = "Remove a duplicate"
            main = stream.commit("refs/heads/main", when, message, render(sections), [main])
            continue
        parts = [lines]
        if kind == "merge" and len(lines) >= 2 and rng.random() < 0.5:
            cut = rng.randint(1, len(lines) - 1)
            parts = [lines[:cut], lines[cut:]]
        tip = main
        for j, part in enumerate(parts):
            for section, line in part:
                sections.setdefault(section, []).insert(0, line)
                if (section, line) not in duplicates:
                    listed.append((section, line, i))
            message = f"Add {len(part)} paper{'s' * (len(part) > 1)}"
            if kind != "merge":
                main = stream.commit("refs/heads/main", when, message, render(sections), [main])
                continue
            branch_when = when - 3600 * (len(parts) - j)
            tip = stream.commit(
                "refs/heads/contribution", branch_when, message, render(sections), [tip]
            )
            counts["branch_commits"] += 1
        if kind == "merge":
            pr += 1
            message = f"Merge pull request #{pr} from contributor/papers-{pr}"
            main = stream.commit("refs/heads/main", when, message, render(sections), [main, tip])
            counts["merges"] += 1
    stream.write(repo)
    return {**counts, "final_entries": sum(len(v) for v in sections.values())}
