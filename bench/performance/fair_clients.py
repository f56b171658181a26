"""The clients of bench/performance/perf_fair.py: lean keep-alive searches, check-pr requests
that honour ``Retry-After``, and what a phase measured (latencies, statuses, CPU)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.common.measure import pct
from bench.common.processes import Server

SEARCH_CLIENTS, CHECKPR_CLIENTS = 20, 5


# -- ----------------------------------------------------------------------------


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
