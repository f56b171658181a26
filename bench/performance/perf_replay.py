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
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.measure import hot_spots, median
from bench.common.results import save
from bench.data.synthetic_history import build_history
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service.replay import run_replay


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
