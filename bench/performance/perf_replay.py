"""`secml-papers replay` over a 500-step history of a 1,000-entry list, against embedding its
texts once (issue 14: minutes, not hours).

    .venv/bin/python bench/performance/perf_replay.py [--quick] [--steps 500] [--entries 1000]
        [--profile N] [--repeats 3]

The history is built with ``git fast-import`` in a temporary folder: a README.md that grows to
``--entries`` entries over ``--steps`` first-parent commits, a few entries per step. About a
third of the adding steps are pull requests merged with ``--no-ff`` (one or two commits on a
branch, one step on the first-parent line); now and then a maintainer moves an entry to
another section, and a paper added twice is removed a few steps later. The entries are the
data set's 347 distinct papers (bench/common/datasets.py) in the bundled list's format, one
section per OWASP category and paper type; to reach 1,000, more entries are titled with the
first 12 words of a paper's tldr or of its abstract's first sentences (distinct texts, the
paper's section, their own URLs), oldest year first.

Measured in-process with the model (all-MiniLM-L6-v2) loaded and warmed up:

* ``run_replay`` on the whole history: wall seconds, per adding step, the distinct texts
  embedded; the embedder is wrapped to time its calls, so the time splits into embedding,
  the rest of the steps (diff, categorizer fit, placement, duplicates) and reading the
  history (git, parsing);
* the baseline: every distinct text the replay embedded, embedded in one call (median of
  ``--repeats``); the ratio replay / baseline is what replaying costs beyond the model;
* with ``--profile N``, the hot spots of replaying the last N steps with the vectors already
  known (what is left once embedding is free).

Results: ``$SECML_BENCH_OUT/replay-speed.json``. Almost all of the time is the categorizer
fitted again on every step's BASE (ridge probes' solves); with another process busy on one of
the two cores, OpenBLAS's default threads made it 2.6 times slower (8 times for ``--quick``)
than ``OPENBLAS_NUM_THREADS=1``: compare both before reading a change into the figures.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import _entry, _kind, distinct_papers
from bench.common.measure import hot_spots, median
from bench.common.results import save
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service.replay import run_replay

Section = tuple[str, str]
START = 1546300800  # 2019-01-01, the first commit
INTRO = (
    "A list of papers on the security of machine learning, by OWASP ML Top 10 risk and kind "
    "of paper."
)


class TimedEmbedder:
    """The real embedder, its calls timed and the texts it was given kept."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0
        self.calls = 0
        self.texts: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.seconds += time.perf_counter() - started
        self.calls += 1
        self.texts += list(texts)
        return vectors


class KnownEmbedder:
    """Vectors already computed, looked up (the real embedder for any other text)."""

    def __init__(self, inner, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.known = dict(zip(texts, vectors, strict=True))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, self.dim))


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


def replay(repo: Path, embedder, limit: int | None = None):
    return run_replay(repo, ["README.md"], embedder, limit=limit, progress=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 steps, 150 entries")
    parser.add_argument("--steps", type=int, help="first-parent steps (default 500)")
    parser.add_argument("--entries", type=int, help="entries at the end (default 1000)")
    parser.add_argument("--profile", type=int, default=0, help="profile the last N steps")
    parser.add_argument("--repeats", type=int, default=3, help="of the one-call baseline")
    args = parser.parse_args()
    steps = args.steps or (60 if args.quick else 500)
    entries = args.entries or (150 if args.quick else 1000)

    with tempfile.TemporaryDirectory(prefix="secml-replay-") as folder:
        repo = Path(folder) / "list"
        repo.mkdir()
        started = time.perf_counter()
        about = build_history(repo, steps, entries)
        built = time.perf_counter() - started
        print(f"history: {about} built in {built:.1f} s", flush=True)

        model = SentenceTransformerEmbedder()
        model.embed(["warm up the model"])  # loaded (and its ONNX graph exported) untimed
        wrapped = TimedEmbedder(model)
        started = time.perf_counter()
        results, found, described = replay(repo, wrapped)
        total = time.perf_counter() - started
        in_steps = sum(r.seconds for r in results)
        texts = wrapped.texts
        assert len(texts) == len(set(texts)) == found.embedded, "the replay embeds each text once"
        once = []
        for _ in range(max(1, args.repeats)):
            started = time.perf_counter()
            vectors = model.embed(texts)
            once.append(time.perf_counter() - started)
        baseline = median(once)
        adding = [r for r in results if r.additions]
        quarter = max(1, len(adding) // 4)
        spots = []
        if args.profile:
            known = KnownEmbedder(model, texts, vectors)
            spots = hot_spots(lambda: replay(repo, known, args.profile), n=10)

    figures = {
        "steps": found.steps,
        "adding_steps": found.adding_steps,
        "additions": found.additions,
        "final_entries": about["final_entries"],
        "history": {k: v for k, v in about.items() if k != "final_entries"},
        "history_build_s": built,
        "replay_s": total,
        "replay_per_adding_step_s": total / len(adding),
        "steps_per_adding_step_s": found.seconds_per_step,
        "embedded_texts": found.embedded,
        "embed_calls": wrapped.calls,
        "embed_s": wrapped.seconds,
        "embed_share": wrapped.seconds / total,
        "rest_of_steps_s": in_steps - wrapped.seconds,
        "rest_of_steps_share": (in_steps - wrapped.seconds) / total,
        "history_read_s": total - in_steps,
        "history_read_share": (total - in_steps) / total,
        "embed_once_s": baseline,
        "embed_once_runs_s": once,
        "replay_vs_embed_once": total / baseline,
        "first_quarter_step_s": sum(r.seconds for r in adding[:quarter]) / quarter,
        "last_quarter_step_s": sum(r.seconds for r in adding[-quarter:]) / quarter,
        "last_quarter_base_entries": sum(r.entries for r in adding[-quarter:]) / quarter,
        "misplacements": found.misplacements,
        "duplicates": found.duplicates,
        "model": described["model"],
        "profiled_steps": args.profile,
        "hot_spots": spots,
    }
    f = figures
    print(
        f"replay of {f['steps']} steps ({f['adding_steps']} adding {f['additions']} entries, "
        f"{f['final_entries']} at the end): {f['replay_s']:.1f} s, "
        f"{f['replay_per_adding_step_s']:.3f} s per adding step "
        f"(first quarter {f['first_quarter_step_s']:.3f} s, last quarter "
        f"{f['last_quarter_step_s']:.3f} s at {f['last_quarter_base_entries']:.0f} entries)"
    )
    print(
        f"  embedding {f['embed_s']:.1f} s ({f['embed_share']:.1%}, {f['embedded_texts']} "
        f"distinct texts in {f['embed_calls']} calls), rest of the steps "
        f"{f['rest_of_steps_s']:.1f} s ({f['rest_of_steps_share']:.1%}), reading the history "
        f"{f['history_read_s']:.1f} s ({f['history_read_share']:.1%})"
    )
    print(
        f"  the {f['embedded_texts']} texts embedded in one call: {f['embed_once_s']:.2f} s; "
        f"replay / that: {f['replay_vs_embed_once']:.1f}x"
    )
    print(f"  history seen: {f['misplacements']} moves, {f['duplicates']} duplicates removed")
    for spot in spots:
        print(f"  {spot['own_share']:6.1%} of the profiled steps' own time in {spot['function']}")
    save("replay-speed", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
