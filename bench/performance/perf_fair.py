"""Fair sharing under check-pr load (issue 16): /search with and without 5 check-pr clients.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/performance/perf_fair.py [--quick] [--docs]
    .venv/bin/python bench/performance/perf_fair.py --docs-only   # the docs section, from JSON

``secml-papers serve`` on the bundled list (the real model, a fresh index under
``$SECML_BENCH_OUT/fair``) with the server's default limits (service/limits.py: the cores but one
requests in flight, a 5 s queue wait, then 429 with ``Retry-After``). Three phases of the same
length (30 s; ``--quick`` 5 s):

- A: 20 clients send ``GET /search?q=...`` one after another on kept-alive connections, with
  no pause; every query is distinct (the data set's held-out-style titles, tldrs and abstract
  phrases), so the server's vector cache cannot help;
- B: the same 20 search clients, and 5 clients each sending ``POST /check-pr`` in a loop: BASE
  the bundled list, HEAD the bundled list plus 3 to 5 real papers of the OWASP data set placed
  at the top of its sections, different papers in every request; on 429 a client sleeps
  ``Retry-After`` and sends the same request again, as a real client would;
- A': 20 search clients alone again, to show how far the machine drifted.

The target (issue 16): /search's p95 in B within 2x of its p95 in A, and no 5xx. The figures go
to ``$SECML_BENCH_OUT/fair.json``; ``--docs`` also writes docs/benchmarks.md's section between
``<!-- fair:start -->`` and ``<!-- fair:end -->`` from that JSON (nothing else on the page).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import time
from collections.abc import Iterator
from itertools import cycle
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
import httpx

from bench.common.datasets import _entry, _loose_key, distinct_papers, query_pool
from bench.common.measure import meets
from bench.common.paths import ROOT
from bench.common.processes import Server, cli_env
from bench.common.results import RESULTS, save
from bench.performance.fair_clients import CHECKPR_CLIENTS, SEARCH_CLIENTS, run_phase
from bench.performance.report_sections.fair import write_docs
from secml_papers.index.embedding.batching import CACHE_SIZE
from secml_papers.service.settings import Settings

BUNDLED = ROOT / "corpus" / "data" / "awesome-secml-papers.md"
# the server's default, as its settings compute it on this machine
SLOTS = Settings().max_in_flight
TARGET = "<= 2"  # p95 with check-pr load / p95 without
# Later rounds over the data set's papers vary their titles, so no embedding is cached.
VARIANTS = ["", ": Revisited", ": An Empirical Study", " in Practice", ": A Closer Look"]


# -- the requests ---------------------------------------------------------------------------


def search_queries() -> list[str]:
    """Distinct, reader-like queries: query_pool's, titles, then 8-word phrases of abstracts.

    Sent in turn and cycled: there are more than the server's vector cache holds
    (index/embedding/batching.py), so a query has left the cache before it comes back."""
    pool = query_pool([]) + [str(p["title"]) for p in distinct_papers()]
    for p in distinct_papers():
        for sentence in re.split(r"(?<=[.!?])\s+", str(p.get("abstract") or "")):
            words = sentence.split()
            pool += [" ".join(words[i : i + 8]) for i in range(2, len(words) - 7, 3)]
    seen: set[str] = set()
    out = [q for q in pool if not (q.lower() in seen or seen.add(q.lower()))]
    if len(out) < 4 * CACHE_SIZE:
        raise SystemExit(f"only {len(out)} distinct queries: the cache would answer some")
    return out


def new_papers() -> list[dict]:
    """The data set's papers that the bundled list lacks, newest first."""
    listed = {_loose_key(t) for t in re.findall(r'\[\*\*"(.+?)"\*\*\]', BUNDLED.read_text())}
    papers = [p for p in distinct_papers() if _loose_key(str(p["title"])) not in listed]
    return sorted(papers, key=lambda p: -int(p.get("year") or 0))


def heads(base: str) -> Iterator[tuple[str, int]]:
    """An endless run of HEADs: BASE plus 3-5 data-set papers, each at the top of a section."""
    lines = base.splitlines(keepends=True)
    sections = [i for i, line in enumerate(lines) if line.startswith("#### ")]
    papers = new_papers()
    taken = 0
    for request in range(10**9):
        count = 3 + request % 3
        out = list(lines)
        chosen = []
        for j in range(count):
            round_, k = divmod(taken + j, len(papers))
            variant = VARIANTS[round_ % len(VARIANTS)] + (f" {round_}" if round_ >= 5 else "")
            chosen.append({**papers[k], "title": str(papers[k]["title"]) + variant})
        taken += count
        targets = sorted({sections[(request + j) % len(sections)] for j in range(count)})
        for j, at in enumerate(reversed(targets)):  # bottom up: earlier indexes stay right
            group = chosen[j :: len(targets)]
            out[at + 2 : at + 2] = [_entry(p) + "\n" for p in group]
        yield "".join(out), count


# -- the run --------------------------------------------------------------------------------


def measure(seconds: float) -> dict:
    work = RESULTS / "fair"
    shutil.rmtree(work / "index", ignore_errors=True)  # a fresh index; the model cache stays
    env = cli_env(work, None, None)  # the bundled list, the server's default limits
    base = BUNDLED.read_text(encoding="utf-8")
    bodies = heads(base)
    queries = cycle(search_queries())
    started = time.perf_counter()
    server = Server(env, work / "serve.log")
    try:
        start_s = time.perf_counter() - started
        with httpx.Client(base_url=server.url, timeout=300) as http:  # warm: the categorizer
            for _ in range(2):
                head, _count = next(bodies)
                http.post("/check-pr", json={"base": base, "head": head}).raise_for_status()
        phases = {}
        for name, load in (("A", None), ("B", bodies), ("A2", None)):
            phases[name] = asyncio.run(run_phase(server, name, seconds, queries, load, base))
            print(f"phase {name}: {json.dumps(phases[name]['search'])}", flush=True)
    finally:
        server.stop()
    a, b, a2 = (phases[k]["search"]["p95_ms"] for k in ("A", "B", "A2"))
    ratio = b / a if a else float("inf")
    return {
        "seconds_per_phase": seconds,
        "search_clients": SEARCH_CLIENTS,
        "checkpr_clients": CHECKPR_CLIENTS,
        "base_entries": base.count('[**"'),
        "server_start_s": round(start_s, 1),
        "limits": f"defaults: {SLOTS} expensive request(s) in flight, 5 s queue wait, then 429",
        "slots": SLOTS,
        "phases": phases,
        "p95_ratio": round(ratio, 2),
        "p95_ratio_target": TARGET,
        "p95_ratio_met": meets(ratio, TARGET),
        "p95_ratio_after": round(b / a2, 2) if a2 else None,
        "fivexx": sum(p["fivexx"] for p in phases.values()),
        "fivexx_met": sum(p["fivexx"] for p in phases.values()) == 0,
    }


def show(r: dict) -> None:
    print(
        f"\n{r['search_clients']} search clients, {r['checkpr_clients']} check-pr clients "
        f"in B; {r['seconds_per_phase']} s a phase"
    )
    print(
        f"{'phase':6} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'q/s':>7} {'5xx':>4} "
        f"{'srv cores':>9} {'busy':>5} load"
    )
    for name, p in r["phases"].items():
        s = p["search"]
        print(
            f"{name:6} {s['requests']:>6} {s['p50_ms']:>7} {s['p95_ms']:>7} {s['p99_ms']:>7} "
            f"{s['qps']:>7} {p['fivexx']:>4} {p['server_cpu_cores']:>9} "
            f"{p['machine_busy_share']:>5} {p['loadavg_after']}"
        )
    c = r["phases"]["B"]["checkpr"]
    print(
        f"check-pr in B: {c['completed']} completed ({c['per_s']}/s, {c['entries_added']} "
        f"entries), {c['refused_429']} answered 429, statuses {c['statuses']}, "
        f"p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms (with Retry-After waits: "
        f"p95 {c['with_waits_p95_ms']} ms)"
    )
    print(
        f"/search p95 B/A: {r['p95_ratio']}x (target {r['p95_ratio_target']}x) "
        f"{'met' if r['p95_ratio_met'] else 'MISSED'}; B/A': {r['p95_ratio_after']}x; "
        f"5xx: {r['fivexx']} (target 0) {'met' if r['fivexx_met'] else 'MISSED'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s a phase")
    parser.add_argument("--duration", type=float, help="seconds a phase (default 30)")
    parser.add_argument("--docs", action="store_true", help="write docs/benchmarks.md's section")
    parser.add_argument("--docs-only", action="store_true", help="the section from the JSON")
    args = parser.parse_args()
    if args.docs_only:
        write_docs(json.loads((RESULTS / "fair.json").read_text()))
        return 0
    seconds = args.duration or (5.0 if args.quick else 30.0)
    if not 1 <= seconds <= 300:
        raise SystemExit("--duration: 1 to 300 seconds")
    result = measure(seconds)
    path = save("fair", result)
    result = json.loads(path.read_text())
    show(result)
    if args.docs:
        write_docs(result)
    return 0 if result["p95_ratio_met"] and result["fivexx_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
