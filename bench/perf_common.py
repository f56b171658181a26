"""Shared pieces of the speed benchmarks (bench/perf_*.py): data, timing, a served subprocess.

Not a benchmark itself. Everything is written under ``$SECML_BENCH_OUT`` (default
/tmp/secml-bench-perf), never into the repository: the lists built from the data set, the
indexes, the servers' caches, and one ``<bench>.json`` of results per script, which
bench/perf_report.py turns into docs/benchmarks.md.

The machines are shared and noisy: each script measures its comparisons side by side,
interleaved, repeated, and reports the ratio of medians (absolute times are context).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import load_papers, markdown_list

RESULTS = Path(os.environ.get("SECML_BENCH_OUT", "/tmp/secml-bench-perf"))
CLI = str(Path(sys.executable).with_name("secml-papers"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class RandomEmbedder:
    """Random unit vectors under the real model's name: memory and timing, not meaning."""

    name = "all-MiniLM-L6-v2"  # the default model: a stored index looks like a real one
    dim = 384

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        v = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def pct(xs: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(xs)
    return float(ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))])


def rss_mb(pid: int | str = "self") -> float:
    """Current resident set size of a process, in MB (not the peak)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def git_state() -> tuple[str, list[str]]:
    """The commit of the checkout, and its code files changed but not committed."""
    root = Path(__file__).resolve().parents[1]
    git = ["git", "-C", str(root)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    dirty = sorted(
        line[3:]
        for line in status.stdout.splitlines()
        if line[3:].startswith(("corpus/", "index/", "service/"))
    )
    return head.stdout.strip(), dirty


def code_state() -> str:
    """The commit this process runs, and code files changed but not committed."""
    head, dirty = git_state()
    return head + (f" + uncommitted {', '.join(dirty)}" if dirty else "")


CODE_AT_START = code_state()  # the code a benchmark measures is the code when it started


def hot_spots(fn: Callable[[], object], n: int = 6) -> list[dict]:
    """The ``n`` functions with the most own time in one profiled call of ``fn`` (cProfile
    slows Python-heavy code more than native code: read the shares, not the seconds)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(fn)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values()) or 1.0
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:n]
    return [
        {
            "function": f"{Path(file).name}:{line}({name})",
            "own_share": round(own / total, 3),
            "calls": calls,
        }
        for (file, line, name), (_, calls, own, _, _) in rows
    ]


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {
        **data,
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
        "load": os.getloadavg(),
        "commit": CODE_AT_START,
    }
    path.write_text(json.dumps(data, indent=1))
    print(f"wrote {path}")
    return path


def distinct_papers() -> list[dict]:
    seen, out = set(), []
    for p in load_papers():
        key = re.sub(r"\W+", " ", str(p["title"]).lower()).strip()
        if key and key not in seen:
            seen.add(key)
            out.append(p)
    return out


def dataset_list(
    folder: Path, held_out_every: int = 4, limit: int | None = None
) -> tuple[Path, Path, list[dict]]:
    """The data set as a list (every ``held_out_every``-th paper left out) and its abstracts.

    Returns the list file, the abstracts JSONL (DESIGN.md's cache format) and the papers left
    out, whose titles are queries that no entry of the list answers verbatim.
    """
    papers = distinct_papers()[:limit]
    listed = [p for i, p in enumerate(papers) if i % held_out_every]
    held = [p for i, p in enumerate(papers) if not i % held_out_every]
    folder.mkdir(parents=True, exist_ok=True)
    list_path, abstracts = folder / "list.md", folder / "abstracts.jsonl"
    list_path.write_text(markdown_list(listed), encoding="utf-8")
    rows = [{"title": p["title"], "abstract": p["abstract"]} for p in listed if p.get("abstract")]
    abstracts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return list_path, abstracts, held


def query_pool(held: list[dict], seed: int = 0) -> list[str]:
    """Distinct, reader-like queries: held-out titles, then the data set's one-line tldrs and
    the first ten words of abstract sentences, shuffled; no query repeats, so no cache helps."""
    pool = [str(p["title"]) for p in held]
    rest = [str(p["tldr"]) for p in distinct_papers() if p.get("tldr")]
    for p in distinct_papers():
        for sentence in re.split(r"(?<=[.!?])\s+", str(p.get("abstract") or "")):
            words = sentence.split()
            if len(words) >= 6:
                rest.append(" ".join(words[:10]).rstrip(".,;:"))
    random.Random(seed).shuffle(rest)
    seen: set[str] = set()
    return [q for q in pool + rest if not (q.lower() in seen or seen.add(q.lower()))]


def cli_env(folder: Path, list_path: Path | None, abstracts: Path | None) -> dict[str, str]:
    """The environment of a ``secml-papers`` subprocess: offline, caches inside ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECML_PAPERS_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        SECML_PAPERS_INDEX_DIR=str(folder / "index"),
        SECML_PAPERS_CACHE_DIR=str(folder / "cache"),
        SECML_PAPERS_DATA_DIR=str(folder / "data"),
    )
    if list_path is not None:
        env["SECML_PAPERS_LIST"] = str(list_path)
    if abstracts is not None:
        env["SECML_PAPERS_ABSTRACTS"] = str(abstracts)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``secml-papers serve`` in a subprocess; times until /health and a first /search answer."""

    def __init__(self, env: dict[str, str], log: Path, timeout: float = 600) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [CLI, "serve", "--port", str(self.port)], env=env, stdout=self.log, stderr=self.log
        )
        with httpx.Client(timeout=60) as client:
            while True:
                if self.proc.poll() is not None:
                    raise SystemExit(f"serve exited with {self.proc.returncode}; see {log}")
                if time.perf_counter() - started > timeout:
                    self.stop()
                    raise SystemExit(f"serve did not answer in {timeout} s; see {log}")
                try:
                    if client.get(self.url + "/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.02)
            self.health_s = time.perf_counter() - started
            client.get(self.url + "/search", params={"q": "first query after start"})
            self.first_search_s = time.perf_counter() - started

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


ENGINE_LOAD = (
    "from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder\n"
    "from secml_papers.service.settings import Settings\n"
    "cache = Settings.from_env().resolved_cache_dir()\n"
    "SentenceTransformerEmbedder(cache_dir=cache).embed(['a query'])\n"
)


def export_engine(env: dict[str, str]) -> None:
    """Export the ONNX graph into ``env``'s cache (once; a served list's later starts find it)."""
    subprocess.run([sys.executable, "-c", ENGINE_LOAD], env=env, check=True)


def run_snippet(code: str, env: dict[str, str], args: list[str], payload: object) -> object:
    """Run ``code`` in a fresh Python process with ``args``, ``payload`` as JSON on its stdin;
    its stdout's JSON."""
    run = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


def engine_load_process(repeats: int) -> list[float]:
    """Wall seconds of fresh processes that load the service's engine (ONNX Runtime, graph
    already exported) and encode one query: the floor for the service's cold commands."""
    env = cli_env(RESULTS / "load", None, None)
    export_engine(env)
    return [
        timed(lambda: subprocess.run([sys.executable, "-c", ENGINE_LOAD], env=env, check=True))
        for _ in range(repeats)
    ]


def model_load_process(repeats: int, encode: bool = False) -> list[float]:
    """Wall seconds of fresh processes that import sentence-transformers and load the model
    from the package (the floor for any cold command), optionally encoding one query."""
    code = (
        "from secml_papers.index.embedding.embedder import resolve_model\n"
        "from sentence_transformers import SentenceTransformer\n"
        "m = SentenceTransformer(str(resolve_model('all-MiniLM-L6-v2')), device='cpu')\n"
        + ("m.encode(['a query'], normalize_embeddings=True)\n" if encode else "")
    )
    env = cli_env(RESULTS / "load", None, None)
    return [
        timed(lambda: subprocess.run([sys.executable, "-c", code], env=env, check=True))
        for _ in range(repeats)
    ]


def meets(ratio: float, target: str) -> bool:
    """``target`` is ``"<= 1.3"`` or ``">= 0.9"``."""
    op, value = target.split()
    return ratio <= float(value) if op == "<=" else ratio >= float(value)


def verdict(name: str, ratio: float, target: str) -> str:
    mark = "met" if meets(ratio, target) else "MISSED"
    return f"{name}: {ratio:.3f}x (target {target}x) {mark}"
