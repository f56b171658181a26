"""perf_query's baseline: raw encode + FAISS in a process of its own, one query at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from bench.common.measure import pct

DEFAULT_THREADS = torch.get_num_threads()
ENGINE = "engine"
ENGINE_NAME = "the service's engine (ONNX Runtime)"

BASELINE = """
import json, sys, time
import faiss, numpy as np, torch
from sentence_transformers import SentenceTransformer
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder, resolve_model
model = SentenceTransformer(str(resolve_model("all-MiniLM-L6-v2")), device="cpu")
engine = SentenceTransformerEmbedder()  # the service's engine (ONNX Runtime), as it runs
index = faiss.IndexFlatIP(int(sys.argv[2]))
index.add(np.load(sys.argv[1]))
faiss.omp_set_num_threads(1)
default = torch.get_num_threads()
model.encode(["warm up"])
engine.embed(["warm up"])
print("ready", flush=True)
for line in sys.stdin:
    queries, threads = json.loads(line)
    if threads != "engine":
        torch.set_num_threads(threads or default)
    times = []
    for q in queries:
        t = time.perf_counter()
        if threads == "engine":
            v = engine.embed([q])
        else:
            v = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)
        index.search(np.ascontiguousarray(v, dtype=np.float32), 10)
        times.append(time.perf_counter() - t)
    print(json.dumps(times), flush=True)
"""


class Baseline:
    """Raw ``SentenceTransformer.encode([q])`` + ``IndexFlatIP.search`` on the served vectors,
    one query at a time (torch's default threads, one thread), and the same with the
    service's own engine (ONNX Runtime) in place of ``encode``: the fastest is the baseline.
    In a process of its own where only the main thread runs the model (in
    this process the library's model thread and the clients would share torch's threads with
    it). Kept running between repeats, so the runs interleave with the HTTP runs."""

    def __init__(self, env: dict[str, str], vectors: np.ndarray, work: Path) -> None:
        path = work / "baseline-vectors.npy"
        np.save(path, np.ascontiguousarray(vectors, dtype=np.float32))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", BASELINE, str(path), str(vectors.shape[1])],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("the baseline process did not start")

    def times(self, queries: list[str], threads: int | str = ENGINE) -> list[float]:
        """Seconds of each query's encode + search: torch with ``threads`` (0: its default) or
        the service's engine."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([queries, threads]) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def run(self, queries: list[str], variants: tuple = (0, 1, ENGINE)) -> dict[str, dict]:
        out = {}
        for threads in variants:
            name = {
                0: f"main thread, {DEFAULT_THREADS} threads",
                1: "main thread, 1 thread",
                ENGINE: ENGINE_NAME,
            }[threads]
            times = self.times(queries, threads)
            out[f"in-process, {name}"] = {
                "p50_ms": pct(times, 50) * 1000,
                "p95_ms": pct(times, 95) * 1000,
            }
        return out

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)
