"""``secml-papers`` in subprocesses: the CLI's environment, a served list, fresh Pythons.

Fresh processes are how the benchmarks time cold starts and keep torch's threads of one
measurement away from another's. ``RandomEmbedder`` stands in for the model where memory and
timing matter, not meaning. Fresh processes that load the model: ``bench.common.models``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np

from bench.common.measure import rss_mb

CLI = str(Path(sys.executable).with_name("secml-papers"))


class RandomEmbedder:
    """Random unit vectors under the real model's name: memory and timing, not meaning."""

    name = "all-MiniLM-L6-v2"  # the default model: a stored index looks like a real one
    dim = 384

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        v = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


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
        stop_process(self.proc)
        self.log.close()


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a child, and kill it when it has not ended ``timeout`` seconds later."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def categorize_when_fitted(client: httpx.Client, title: str) -> tuple[httpx.Response, int]:
    """POST /categorize until the answer is not 429/503 (a fit that outlasts the server's
    time budget, or the expensive slot busy): the answer, and how many were refused first."""
    refused = 0
    while True:
        try:
            answer = client.post("/categorize", json={"title": title})
        except httpx.TransportError:  # the server closed the connection meanwhile
            refused += 1
            continue
        if answer.status_code not in (429, 503):
            return answer, refused
        refused += 1
        time.sleep(0.2)


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
