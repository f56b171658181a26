"""The query benchmarks' served list and their HTTP load client (perf_query, perf_peer).

The list is the data set's (three papers in four, with abstracts), built once with the CLI;
its queries are distinct (held-out titles, tldrs, abstract openings;
``bench.common.datasets.query_pool``), so no query is sent twice and no cache can help.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.common.datasets import dataset_list, query_pool
from bench.common.measure import pct
from bench.common.processes import CLI, cli_env
from secml_papers.service.settings import Settings


def setup(work: Path, quick: bool) -> tuple[dict[str, str], Settings, Iterator[str]]:
    """The list, its built index, the subprocess environment, in-process settings, queries."""
    shutil.rmtree(work, ignore_errors=True)
    list_path, abstracts, held = dataset_list(work, 4, 40 if quick else None)
    env = cli_env(work, list_path, abstracts)
    subprocess.run([CLI, "build"], env=env, check=True, capture_output=True)
    settings = Settings(
        list_source=str(list_path),
        abstracts=abstracts,
        index_dir=work / "index",
        cache_dir=work / "cache",
        data_dir=work / "data",
        auto_build=False,
    )
    return env, settings, iter(query_pool(held))


def take(pool: Iterator[str], n: int) -> list[str]:
    out = [q for _, q in zip(range(n), pool, strict=False)]
    if len(out) < n:
        raise SystemExit("the query pool ran out: lower --repeats")
    return out


async def _get(reader, writer, target: str) -> None:
    """One GET on a kept-alive HTTP/1.1 connection; the body is read and dropped."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode()
    if status != "HTTP/1.1 200 OK":
        raise SystemExit(f"/search answered {status}")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)


async def _load(
    url: str, queries: list[str], clients: int, params: dict, lean: bool, warm: str | None = None
) -> tuple[list, float]:
    """``clients`` concurrent keep-alive connections sending the queries one after another.

    The lean client writes the request line itself and reads the answer by its
    Content-Length (a few microseconds, as wrk would): the time measured is the server's and
    the socket's. ``lean=False`` sends the same requests with httpx (context: what a Python
    client adds)."""
    latencies: list[float] = []
    todo = iter(queries)
    extra = "".join(f"&{k}={quote(v)}" for k, v in params.items())
    host, port = url.removeprefix("http://").split(":")

    async def lean_worker(n: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            if warm is not None:  # a first request on the connection, not timed
                await _get(reader, writer, f"/search?q={quote(f'{warm} {n}')}{extra}")
            for q in todo:
                t = time.perf_counter()
                await _get(reader, writer, f"/search?q={quote(q)}{extra}")
                latencies.append(time.perf_counter() - t)
        finally:
            writer.close()

    async def httpx_worker(client: httpx.AsyncClient) -> None:
        for q in todo:
            t = time.perf_counter()
            (await client.get("/search", params={"q": q, **params})).raise_for_status()
            latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    if lean:
        await asyncio.gather(*(lean_worker(n) for n in range(clients)))
    else:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
            await asyncio.gather(*(httpx_worker(client) for _ in range(clients)))
    return latencies, time.perf_counter() - started


def http_times(url: str, queries: list[str], warm: str, **params: str) -> list[float]:
    """Seconds of each /search of one keep-alive client, after an untimed ``warm`` query on
    its connection (a client that stays connected, as one that asks again would)."""
    return asyncio.run(_load(url, queries, 1, params, True, warm))[0]


def http_load(url: str, queries: list[str], clients: int, lean: bool = True, **params: str) -> dict:
    """p50, p95 (ms) and throughput (queries/s) of ``clients`` concurrent /search clients."""
    latencies, wall = asyncio.run(_load(url, queries, clients, params, lean))
    return {
        "p50_ms": pct(latencies, 50) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
        "qps": len(queries) / wall,
    }
