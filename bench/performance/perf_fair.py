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
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from itertools import cycle
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
import httpx

from bench.common.datasets import _entry, _loose_key, distinct_papers, query_pool
from bench.common.measure import meets, pct
from bench.common.paths import DOCS, ROOT
from bench.common.processes import Server, cli_env
from bench.common.results import RESULTS, save
from secml_papers.index.embedding.batching import CACHE_SIZE
from secml_papers.service.settings import Settings

BUNDLED = ROOT / "corpus" / "data" / "awesome-secml-papers.md"
SEARCH_CLIENTS, CHECKPR_CLIENTS = 20, 5
# the server's default, as its settings compute it on this machine
SLOTS = Settings().max_in_flight
TARGET = "<= 2"  # p95 with check-pr load / p95 without
START, END = "<!-- fair:start -->", "<!-- fair:end -->"
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


# -- the clients ----------------------------------------------------------------------------


async def lean_get(reader, writer, target: str) -> int:
    """One GET on a kept-alive connection (a few microseconds of client time); its status."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return status


class Phase:
    def __init__(self, name: str, seconds: float) -> None:
        self.name, self.seconds = name, seconds
        self.search: list[tuple[float, int]] = []  # (seconds, status)
        self.checkpr: list[tuple[float, int]] = []  # each attempt: (seconds, status)
        self.completed: list[float] = []  # first attempt to answer, Retry-After waits included
        self.entries_added = 0
        self.errors: list[str] = []


async def search_client(url: str, queries, phase: Phase, stop: float) -> None:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for q in queries:
            if time.perf_counter() >= stop:
                break
            started = time.perf_counter()
            try:
                status = await lean_get(reader, writer, f"/search?q={quote(q)}")
            except (OSError, asyncio.IncompleteReadError, ValueError) as err:
                phase.errors.append(f"search: {err!r}")
                status = -1
                writer.close()
                reader, writer = await asyncio.open_connection(host, int(port))
            phase.search.append((time.perf_counter() - started, status))
    finally:
        writer.close()


async def checkpr_client(
    http: httpx.AsyncClient, base: str, bodies, phase: Phase, stop: float
) -> None:
    while time.perf_counter() < stop:
        head, count = next(bodies)
        first = time.perf_counter()
        while True:
            started = time.perf_counter()
            try:
                answer = await http.post("/check-pr", json={"base": base, "head": head})
                status = answer.status_code
            except httpx.HTTPError as err:
                phase.errors.append(f"check-pr: {err!r}")
                status, answer = -1, None
            phase.checkpr.append((time.perf_counter() - started, status))
            if status != 429 or answer is None:
                break
            wait = float(answer.headers.get("retry-after", "1"))
            if time.perf_counter() + wait >= stop:
                return  # a real client would wait; the phase ends first
            await asyncio.sleep(wait)
        if status == 200:
            phase.completed.append(time.perf_counter() - first)
            phase.entries_added += count
        elif answer is not None:
            phase.errors.append(f"check-pr: {status} {answer.text[:200]}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """All cores' (busy, total) jiffies since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


async def run_phase(server: Server, name: str, seconds: float, queries, bodies, base: str):
    phase = Phase(name, seconds)
    before = (cpu_seconds(server.proc.pid), time.process_time(), machine_busy())
    started = time.perf_counter()
    stop = started + seconds
    limits = httpx.Limits(max_connections=CHECKPR_CLIENTS)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
        tasks = [search_client(server.url, queries, phase, stop) for _ in range(SEARCH_CLIENTS)]
        if bodies is not None:
            tasks += [
                checkpr_client(http, base, bodies, phase, stop) for _ in range(CHECKPR_CLIENTS)
            ]
        await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    busy, total = machine_busy()
    return summary(phase, wall, before, server, busy - before[2][0], total - before[2][1])


def summary(phase: Phase, wall: float, before, server: Server, busy: float, total: float) -> dict:
    def ms(xs: list[float], q: float) -> float:
        return round(pct(xs, q) * 1000, 1) if xs else 0.0

    def statuses(rows: list[tuple[float, int]]) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, s in rows:
            out[str(s)] = out.get(str(s), 0) + 1
        return dict(sorted(out.items()))

    ok = [s for s, status in phase.search if status == 200]
    out = {
        "seconds": round(wall, 1),
        "search": {
            "requests": len(phase.search),
            "statuses": statuses(phase.search),
            "p50_ms": ms(ok, 50),
            "p95_ms": ms(ok, 95),
            "p99_ms": ms(ok, 99),
            "max_ms": ms(ok, 100),
            "qps": round(len(ok) / phase.seconds, 1),
        },
        "server_cpu_cores": round((cpu_seconds(server.proc.pid) - before[0]) / wall, 2),
        "client_cpu_cores": round((time.process_time() - before[1]) / wall, 2),
        "machine_busy_share": round(busy / total, 3) if total else 0.0,
        "cores": os.cpu_count(),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "fivexx": sum(s >= 500 for _, s in phase.search + phase.checkpr),
        "transport_errors": sum(s < 0 for _, s in phase.search + phase.checkpr),
        "error_samples": phase.errors[:5],
    }
    if phase.checkpr:
        done = phase.completed
        answered = [s for s, status in phase.checkpr if status == 200]
        out["checkpr"] = {
            "attempts": len(phase.checkpr),
            "statuses": statuses(phase.checkpr),
            "completed": len(done),
            "refused_429": sum(status == 429 for _, status in phase.checkpr),
            "entries_added": phase.entries_added,
            "per_s": round(len(done) / phase.seconds, 2),
            "p50_ms": ms(answered, 50),
            "p95_ms": ms(answered, 95),
            "with_waits_p50_ms": ms(done, 50),
            "with_waits_p95_ms": ms(done, 95),
        }
    return out


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


def section(r: dict) -> str:
    """docs/benchmarks.md's section, from the JSON alone."""
    a, b, a2 = (r["phases"][k] for k in ("A", "B", "A2"))
    c = b["checkpr"]
    met = "met" if r["p95_ratio_met"] else "**missed**"
    ok5 = "met" if r["fivexx_met"] else "**missed**"
    rows = [
        "| phase | /search requests | p50 (ms) | p95 (ms) | p99 (ms) | q/s | 5xx | server CPU "
        "(cores) | machine busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, p in (
        ("A: 20 search clients", a),
        ("B: 20 search + 5 check-pr clients", b),
        ("A': 20 search clients again", a2),
    ):
        s = p["search"]
        rows.append(
            f"| {label} | {s['requests']:,} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | "
            f"{s['qps']} | {p['fivexx']} | {p['server_cpu_cores']} | "
            f"{p['machine_busy_share']:.0%} |"
        )
    cost = b["server_cpu_cores"] - a["server_cpu_cores"]
    cpu = (
        f"The server used {b['server_cpu_cores']} cores in B against {a['server_cpu_cores']} in "
        f"A ({cost:+.2f}) of {a['cores']}, the machine was {b['machine_busy_share']:.0%} busy "
        f"(the clients, one Python process: {b['client_cpu_cores']} cores), load average after "
        f"B {', '.join(str(x) for x in b['loadavg_after'])}"
    )
    if cost < 0.15 and b["machine_busy_share"] < 0.9:
        cpu += (
            ": the server did no more work in B, it did other work, so the cores were not what "
            "searches waited for. The likely cause: check-pr runs in the threadpool as Python (parse, diff, lint, "
            "placement by the categorizer), and Python runs one thread at a time: the event loop "
            "that reads, ranks and answers every search waits for the interpreter lock while a "
            "check-pr holds it; check-pr also embeds its added titles on the model's workers that "
            "encode the queries (index/embedding/batching.py)."
        )
    else:
        cpu += ": every CPU-second check-pr took is one the searches waited for."
    help_ = (
        f"- These {r['checkpr_clients']} clients asked {c['per_s']} check-pr a second, back to "
        "back, where a list receives a few pull requests a day: the in-flight bound kept them "
        f"to {r.get('slots', 2)} at a time. What would help further (none of it measured here): check-pr's work "
        "outside the server's interpreter (a process pool for the expensive endpoints, or a "
        "second `serve` process behind the proxy for them, docs/deploy.md), so searches do not "
        "share its lock; a per-client rate "
        "(`SECML_PAPERS_RATE_PER_MINUTE`), which no real CI job would notice."
    )
    lines = [
        "## Fair sharing under check-pr load (issue 16)",
        "",
        "`bench/performance/perf_fair.py`: `secml-papers serve` on the bundled list "
        f"({r['base_entries']} entries, the real model) with the default limits "
        f"(service/limits.py: {r.get('slots', 2)} expensive request(s) in flight, 5 s queue "
        "wait, then 429 with "
        f"`Retry-After`). Each phase lasts {r['seconds_per_phase']:g} s; the "
        f"{r['search_clients']} search clients send distinct queries (data set titles, tldrs, "
        "abstract phrases) back to back on kept-alive connections; in B, "
        f"{r['checkpr_clients']} clients loop on `POST /check-pr` with BASE the bundled list "
        "and HEAD it plus 3-5 papers of the data set at the top of its sections (different "
        "papers every time), sleeping `Retry-After` on a 429 and sending again.",
        "",
        *rows,
        "",
        f"- /search p95 with check-pr load against without: **{r['p95_ratio']}x** (target "
        f"<= 2x, {met}; against A', run after B: {r['p95_ratio_after']}x).",
        f"- 5xx: **{r['fivexx']}** over the three phases (target 0, {ok5}).",
        f"- check-pr in B: {c['completed']} completed ({c['per_s']}/s, {c['entries_added']} "
        f"entries checked), {c['refused_429']} answered 429; a request took p50 "
        f"{c['p50_ms']} ms, p95 {c['p95_ms']} ms, its wait for one of the {r.get('slots', 2)} slot(s) included "
        f"(p95 {c['with_waits_p95_ms']} ms with the `Retry-After` sleeps).",
        f"- Where the time goes: /search answered {b['search']['qps']} q/s in B against "
        f"{a['search']['qps']} in A. {cpu}",
        help_,
        f"- Measured {r['measured_at']} at {r['commit']}.",
    ]
    return "\n".join(lines)


def write_docs(r: dict) -> None:
    """Replace the text between the markers in docs/benchmarks.md (or add it at the end)."""
    path = DOCS / "benchmarks.md"
    page = path.read_text(encoding="utf-8")
    block = f"{START}\n{section(r)}\n{END}"
    if START in page and END in page:
        before, rest = page.split(START, 1)
        page = before + block + rest.split(END, 1)[1]
    else:
        page = page.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(page, encoding="utf-8")
    print(f"wrote {path}'s fair-sharing section")


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
