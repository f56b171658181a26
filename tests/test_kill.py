"""Builds killed with SIGKILL at random moments, and two builds at once, in real processes.

Each build runs in ``tests.build_worker``, which imports and parses before it says ``ready``,
so the kills land in the build itself (loading the old index, embedding, writing the new
generation, switching, sweeping). After every kill the index must load and answer a search,
from the old generation or the new one, never a mix; the lock must be free; and the next
build must succeed and sweep whatever the killed one left behind.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from secml_papers.corpus.parse import parse_list
from secml_papers.index.build import build_index, list_hash
from secml_papers.index.search.paper_index import PaperIndex
from secml_papers.index.stores.store import IndexStore

from .conftest import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
KILLS = 24  # kills that land inside a build (the test asks for at least 20)
MAX_RUNS = 40  # a kill that comes after the worker finished does not count
DIM = 6144  # wide vectors: 400 entries make 10 MB files, so writing takes a while
ENTRIES = 400
PHASE = {
    "ready": "start",
    "go": "load",
    "load": "load",
    "locked": "load",
    "embed": "embed",
    "presweep": "serialize",
    "write": "write",
    "switch": "switch",
    "sweep": "sweep",
    "done": "after",
}
WORDS = ("adversarial", "backdoor", "membership", "inference", "robust", "certified")
WORDS += ("poisoning", "federated", "privacy", "extraction", "watermark", "malware", "evasion")


def make_list(salt: str, entries: int = ENTRIES) -> str:
    rng = random.Random(salt)
    lines = ["# Generated list", ""]
    for section in range(6):
        lines += ["", f"## Section {section}", ""]
        for i in range(section, entries, 6):
            title = " ".join(rng.choice(WORDS) for _ in range(6))
            lines.append(
                f'- Author{i} et al. [**"{title} {salt} number {i}"**]'
                f"(https://example.org/{salt}/{i}) @ **ICML 2021**."
            )
    return "\n".join(lines) + "\n"


class Worker:
    """One build process; markers are read from its stdout."""

    def __init__(self, index_dir: Path, list_path: Path, *flags: str, env: dict | None = None):
        self.err_path = list_path.with_suffix(".err")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.build_worker", str(index_dir), str(list_path), *flags],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err_path.open("w"),
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.markers: list[tuple[str, float]] = []
        self.output: list[str] = []

    def until(self, name: str) -> float:
        """Read markers until ``name`` (its time stamp); fail when the worker ends first."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._read(line)
            marker, stamp = self.markers[-1] if self.markers else ("", 0.0)
            if marker == name or marker.startswith(f"{name} "):
                return stamp
        self.proc.wait(timeout=60)
        raise AssertionError(f"the worker ended before {name!r}: {self.err_path.read_text()}")

    def send(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def finish(self) -> int:
        assert self.proc.stdout is not None
        code = self.proc.wait(timeout=300)
        for line in self.proc.stdout.read().splitlines():
            self._read(line)
        return code

    def _read(self, line: str) -> None:
        """A marker line is a name and a time stamp; the CLI's own output is not."""
        marker, _, stamp = line.strip().rpartition(" ")
        try:
            self.markers.append((marker, float(stamp)))
        except ValueError:
            self.output.append(line)

    def at(self, name: str) -> float:
        return next(stamp for marker, stamp in self.markers if marker == name)

    def last_phase(self) -> str:
        return PHASE[self.markers[-1][0].split(" ")[0]]


def spawn(tmp_path: Path, index_dir: Path, n: int) -> Worker:
    path = tmp_path / f"list-{n}.md"
    path.write_text(make_list(f"s{n}"))
    return Worker(index_dir, path, "--dim", str(DIM))


def entries_left(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name not in ("CURRENT", ".lock"))


def plans(worker: Worker, kills: int, seed: int = 7) -> list[tuple[str, float]]:
    """When to kill: half at uniform moments over a whole build, half a random time into a
    chosen step (as long as that step took in the calibration build), so the short steps,
    the switch and the sweep, are hit too. A plan is (marker to wait for, seconds after it)."""
    rng = random.Random(seed)
    took = worker.at("done") - worker.at("go")
    steps = ["embed", "presweep", "write vectors.npy", "write index.faiss.npy", "switch", "sweep"]
    ends = [*steps[1:], "done"]
    spans = {s: worker.at(e) - worker.at(s) for s, e in zip(steps, ends, strict=True)}
    uniform = [("go", took * (i + rng.random()) / (kills // 2)) for i in range(kills // 2)]
    targeted = [(s, rng.uniform(0, spans[s])) for s in steps for _ in range(kills // 12 + 1)]
    chosen = uniform + targeted
    rng.shuffle(chosen)
    return chosen


def test_sigkill_anywhere_in_a_build_leaves_a_loadable_index(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    embedder = FakeEmbedder(DIM)
    store = IndexStore(index_dir)
    workers = [spawn(tmp_path, index_dir, 0)]
    # Two complete builds: the index the first kill finds, and how long each step takes.
    for n in (0, 1):
        workers.append(spawn(tmp_path, index_dir, n + 1))  # starts while this one builds
        workers[n].until("ready")
        workers[n].send()
        assert workers[n].finish() == 0, workers[n].err_path.read_text()
    schedule = plans(workers[1], KILLS)
    previous = parse_list((tmp_path / "list-1.md").read_text())
    phases: Counter[str] = Counter()
    outcome: Counter[str] = Counter()
    strays = 0
    run = 2
    while sum(phases.values()) - phases["after"] < KILLS and run < MAX_RUNS:
        worker = workers[run]
        workers.append(spawn(tmp_path, index_dir, run + 1))  # imports while this one builds
        worker.until("hash")  # the hash of the list it builds comes first
        expected_new = worker.markers[-1][0].split(" ")[1]
        worker.until("ready")
        marker, delay = schedule[(run - 2) % len(schedule)]
        worker.send()
        worker.until(marker)
        time.sleep(delay)
        worker.proc.kill()
        worker.finish()
        phases[worker.last_phase()] += 1

        stored = store.load()  # never raises: the old generation or the new one
        assert stored is not None
        old_hash = list_hash(previous.papers)
        assert stored.manifest.list_hash in (old_hash, expected_new)
        outcome["new" if stored.manifest.list_hash == expected_new else "old"] += 1
        current = parse_list((tmp_path / f"list-{run}.md").read_text())
        served = previous if stored.manifest.list_hash == old_hash else current
        hits = PaperIndex(served.papers, served.sections, stored, embedder).search("backdoor", 3)
        assert len(hits) == 3
        with store.lock(timeout=60):  # the killed worker's lock went with it
            pass
        strays += len(entries_left(index_dir)) - 1

        # The next build succeeds and leaves exactly one generation, nothing else.
        build_index(current.papers, embedder, store, stored)
        assert entries_left(index_dir) == [store.current_generation()]
        assert sorted(p.name for p in (index_dir / entries_left(index_dir)[0]).iterdir()) == [
            "index.faiss.npy",
            "manifest.json",
            "vectors.npy",
        ]
        previous = current
        run += 1
    for worker in workers[run:]:
        worker.proc.kill()
        worker.finish()
    landed = sum(phases.values()) - phases["after"]
    took = workers[1].at("done") - workers[1].at("go")
    print(
        f"\nSIGKILL: {run - 2} runs, {landed} inside a build; phases {dict(phases)}; "
        f"index afterwards {dict(outcome)}; stray entries swept by the next build: {strays}; "
        f"a build took {took:.2f} s"
    )
    assert landed >= KILLS
    assert phases["write"] > 0


@pytest.fixture
def pair(tmp_path: Path, bundled_text: str):
    """Two list files and what each parses to."""
    index_dir = tmp_path / "index"
    paths = []
    for name, word in (("a", "Alpha"), ("b", "Beta")):
        path = tmp_path / f"{name}.md"
        path.write_text(bundled_text.replace("Neural Cleanse", f"Neural Cleanse {word}"))
        paths.append(path)
    env = {
        "SECML_PAPERS_DATA_DIR": str(tmp_path / "data"),
        "SECML_PAPERS_CACHE_DIR": str(tmp_path / "cache"),
    }
    return index_dir, paths, env


def test_two_builds_at_once_take_turns(pair) -> None:
    index_dir, (a_list, b_list), env = pair
    first = Worker(index_dir, a_list, "--hold")
    second = Worker(index_dir, b_list, "--cli", env=env)
    first.until("ready")
    second.until("ready")
    first.send()
    first.until("holding")  # the first build holds the lock and waits for us
    second.send()
    second.until("waiting")  # the second build found the lock taken
    first.send()
    assert first.finish() == 0, first.err_path.read_text()
    assert second.finish() == 0, second.err_path.read_text()
    assert second.at("locked") > first.at("sweep")  # nothing interleaved
    assert "waiting for another build" in " ".join(second.err_path.read_text().split())
    stored = IndexStore(index_dir).load()
    b_papers = parse_list(b_list.read_text()).papers
    assert stored is not None and stored.manifest.list_hash == list_hash(b_papers)
    assert entries_left(index_dir) == [stored.generation]


def test_a_build_that_waits_too_long_fails_clearly(pair) -> None:
    index_dir, (a_list, b_list), env = pair
    first = Worker(index_dir, a_list, "--hold")
    second = Worker(index_dir, b_list, "--cli", env={**env, "SECML_PAPERS_LOCK_TIMEOUT": "1"})
    first.until("ready")
    second.until("ready")
    first.send()
    first.until("holding")
    second.send()
    assert second.finish() == 2
    errors = [line for line in second.err_path.read_text().splitlines() if "error" in line]
    assert len(errors) == 1 and "Traceback" not in second.err_path.read_text()
    assert "another build has held the lock" in errors[0] and "for 1 s" in errors[0]
    first.send()
    assert first.finish() == 0
    stored = IndexStore(index_dir).load()
    a_papers = parse_list(a_list.read_text()).papers
    assert stored is not None and stored.manifest.list_hash == list_hash(a_papers)
