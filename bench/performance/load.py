"""Load test: concurrent clients against a local server while the index is rebuilt and reloaded.

    python bench/performance/load.py                      # 50 clients, 60 s, the real model
    python bench/performance/load.py --clients 10 --duration 3 --fake --json out.json

It starts ``secml-papers``' app on 127.0.0.1 in a child process (the real model unless
``--fake``) over a copy of the list, then runs asyncio httpx clients that each loop over a
mix of search (half), related and categorize (a quarter each). A third of the way in, it adds
entries to the list and rebuilds the index in another process (as ``secml-papers build``
would), then reloads the server with ``POST /admin/reload``; two thirds in, it adds more and
reloads, so the server builds them itself. The run lasts at least until both reloads are done.
It prints requests, errors (any answer but 200, or none), latency percentiles and throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.paths import ROOT
from bench.common.processes import free_port, stop_process

FAKE_DIM = 64  # the fake embedder's width: small, so the categorizer refits quickly
QUERIES = [
    "certified robustness via randomized smoothing",
    "backdoor attacks on federated learning",
    "membership inference",
    "adversarial examples are features",
    "defending against poisoning",
    "neural network trojans detection",
    "transferable adversarial attacks",
    "trade-off between robustness and accuracy",
]
TITLES = [
    "Poisoning federated models through malicious clients",
    "Detecting backdoors by pruning dormant neurons",
    "Certified defenses for graph neural networks",
    "Inferring training set membership from confidence scores",
]


def library(args: argparse.Namespace, list_path: Path, token: str | None = None):
    from secml_papers.service.library import Library
    from secml_papers.service.settings import Settings

    work = list_path.parent
    settings = Settings(
        list_source=str(list_path),
        index_dir=work / "index",
        data_dir=work / "data",
        cache_dir=work / "cache",
        model=args.model or Settings().model,
        admin_token=token,
    )
    embedder = None
    if args.fake:
        from tests.conftest import FakeEmbedder

        embedder = FakeEmbedder(FAKE_DIM)
    return Library(settings, embedder)


def serve_child(args: argparse.Namespace) -> None:
    """The server: built and warmed before it listens, gone when its parent is."""
    import uvicorn

    from secml_papers.service.api import create_app

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    lib = library(args, Path(args.serve_child), os.environ["SECML_PAPERS_ADMIN_TOKEN"])
    _ = lib.categorizer.temperature
    uvicorn.run(create_app(lib), host="127.0.0.1", port=args.port, log_level="warning")


def add_entries(list_path: Path, tag: str, count: int) -> list[str]:
    titles = [f"Load test sentinel {tag} number {i} on quokka robustness" for i in range(count)]
    lines = [
        f'- Doe et al. [**"{t}"**](https://example.org/{tag}/{i}) @ **ICML 2024**.'
        for i, t in enumerate(titles)
    ]
    list_path.write_text(list_path.read_text().rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")
    return titles


class Run:
    def __init__(self, base: str, token: str, args: argparse.Namespace, work: Path) -> None:
        self.base, self.token, self.args, self.work = base, token, args, work
        self.samples: list[tuple[str, float, float]] = []  # (operation, started, seconds)
        self.errors: list[str] = []
        self.events: list[dict] = []
        self.start = time.perf_counter()
        self.elapsed = 0.0
        self.stop_at = args.duration
        self.events_done = asyncio.Event()

    def now(self) -> float:
        return time.perf_counter() - self.start

    async def client(self, http: httpx.AsyncClient, ids: list[str], seed: int) -> None:
        rng = random.Random(seed)
        while self.now() < self.stop_at or not self.events_done.is_set():
            roll = rng.random()
            if roll < 0.5:
                op, call = "search", http.get("/search", params={"q": rng.choice(QUERIES)})
            elif roll < 0.75:
                op, call = (
                    "related",
                    http.get(f"/papers/{rng.choice(ids)}/related", params={"k": 5}),
                )
            else:
                op, call = (
                    "categorize",
                    http.post("/categorize", json={"title": rng.choice(TITLES)}),
                )
            started = time.perf_counter()
            try:
                answer = await call
                if answer.status_code != 200:
                    self.errors.append(f"{op}: {answer.status_code} {answer.text[:200]}")
            except httpx.HTTPError as err:
                self.errors.append(f"{op}: {err!r}")
            self.samples.append((op, started - self.start, time.perf_counter() - started))

    async def reload(self, http: httpx.AsyncClient, label: str, titles: list[str]) -> None:
        """POST /admin/reload (waiting as long as it takes), then look for a new entry."""
        at, event = self.now(), {"event": label}
        try:
            answer = await http.post(
                "/admin/reload", headers={"Authorization": f"Bearer {self.token}"}, timeout=3600
            )
            probe = await http.get("/search", params={"q": titles[0], "k": 3})
            found = probe.status_code == 200 and probe.json()["results"][0]["title"] == titles[0]
            event.update(status=answer.status_code, found_new_entry=found, **answer.json())
        except httpx.HTTPError as err:
            event.update(status=-1, error=repr(err))
        self.events.append({**event, "at": round(at, 1), "seconds": round(self.now() - at, 2)})

    async def scenario(self, http: httpx.AsyncClient) -> None:
        """A rebuild by another process then a reload, and an edit the reload builds itself."""
        list_path = self.work / "list.md"
        try:
            await asyncio.sleep(self.args.duration / 3)
            titles = add_entries(list_path, "a", 3)
            at = self.now()
            command = [sys.executable, __file__, "--build-child", str(list_path)]
            command += ["--fake"] if self.args.fake else []
            command += ["--model", self.args.model] if self.args.model else []
            process = await asyncio.create_subprocess_exec(*command, cwd=ROOT)
            code = await process.wait()
            self.events.append(
                {
                    "event": "rebuild in another process",
                    "at": round(at, 1),
                    "exit": code,
                    "seconds": round(self.now() - at, 2),
                }
            )
            await self.reload(http, "reload after that rebuild", titles)
            await asyncio.sleep(max(0.0, 2 * self.args.duration / 3 - self.now()))
            await self.reload(http, "reload that builds an edit", add_entries(list_path, "b", 3))
        finally:
            tail = max(1.0, self.args.duration / 20)  # answers from the final state too
            self.stop_at = max(self.stop_at, self.now() + tail)
            self.events_done.set()


async def drive(base: str, token: str, args: argparse.Namespace, work: Path) -> Run:
    limits = httpx.Limits(max_connections=args.clients + 4, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as http:
        ids = [p["id"] for p in (await http.get("/papers")).json()["papers"]]
        run = Run(base, token, args, work)
        clients = [run.client(http, ids, seed) for seed in range(args.clients)]
        await asyncio.gather(run.scenario(http), *clients)
    run.elapsed = run.now()
    return run


def summary(run: Run, args: argparse.Namespace) -> dict:
    def stats(rows: list[float]) -> dict:
        ms = np.array(rows) * 1000
        p50, p95, p99 = np.percentile(ms, [50, 95, 99]) if len(ms) else (0, 0, 0)
        return {
            "requests": len(ms),
            "p50_ms": round(float(p50), 1),
            "p95_ms": round(float(p95), 1),
            "p99_ms": round(float(p99), 1),
            "max_ms": round(float(ms.max()) if len(ms) else 0, 1),
        }

    elapsed = run.elapsed
    result = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "model": "fake" if args.fake else (args.model or "all-MiniLM-L6-v2"),
        "requests": len(run.samples),
        "errors": len(run.errors),
        "throughput_rps": round(len(run.samples) / elapsed, 1),
        "latency": {"all": stats([s for _, _, s in run.samples])},
        "events": run.events,
        "error_samples": run.errors[:5],
    }
    for op in ("search", "related", "categorize"):
        result["latency"][op] = stats([s for o, _, s in run.samples if o == op])
    for event in run.events:  # how many requests were asked during and after each event
        start, end = event["at"], event["at"] + event["seconds"]
        event["asked_during"] = sum(start <= t <= end for _, t, _ in run.samples)
        event["asked_after"] = sum(t > end for _, t, _ in run.samples)
    return result


def report(result: dict) -> None:
    print(f"load: {result['clients']} clients for {result['seconds']} s, model {result['model']}")
    print(
        f"requests {result['requests']}, errors {result['errors']}, "
        f"throughput {result['throughput_rps']} req/s"
    )
    print(f"{'latency (ms)':14} {'n':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for op, s in result["latency"].items():
        print(
            f"{op:14} {s['requests']:>7} {s['p50_ms']:>8} {s['p95_ms']:>8} "
            f"{s['p99_ms']:>8} {s['max_ms']:>8}"
        )
    for event in result["events"]:
        print(f"  at {event['at']:>5} s: {json.dumps(event)}")
    for sample in result["error_samples"]:
        print(f"  error: {sample}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (at least)")
    parser.add_argument("--fake", action="store_true", help="the tests' fake embedder")
    parser.add_argument("--model", help="a sentence-transformers model (default: the project's)")
    parser.add_argument("--list", type=Path, help="the list to serve (default: the bundled one)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve-child", help=argparse.SUPPRESS)
    parser.add_argument("--build-child", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        serve_child(args)
        return 0
    if args.build_child:
        library(args, Path(args.build_child)).build()
        return 0
    work = Path(tempfile.mkdtemp(prefix="secml-load-"))
    from secml_papers.corpus.storage import read_list

    text = args.list.read_text() if args.list else read_list(None).text
    (work / "list.md").write_text(text)
    token, port = secrets.token_urlsafe(24), free_port()
    command = [
        sys.executable,
        __file__,
        "--serve-child",
        str(work / "list.md"),
        "--port",
        str(port),
    ]
    command += ["--fake"] if args.fake else []
    command += ["--model", args.model] if args.model else []
    env = {**os.environ, "SECML_PAPERS_ADMIN_TOKEN": token}
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                print("the server did not start", file=sys.stderr)
                return 1
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        result = summary(asyncio.run(drive(base, token, args, work)), args)
    finally:
        stop_process(server, timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    events = result["events"]
    ok = result["errors"] == 0 and len(events) == 3
    ok = ok and all(e.get("status", 200) == 200 and e.get("exit", 0) == 0 for e in events)
    ok = ok and all(e.get("found_new_entry", True) for e in events)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
