"""perf_query's split of a /search request's time into its parts, in this process."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common.measure import median, timed
from bench.common.processes import RandomEmbedder
from bench.performance.query_parts.layers import asgi_call, stub_library
from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings


async def _asgi(app, queries: list[str], out: list[float]) -> None:
    """Sequential /search requests to ``app`` in this process, as a server calls it (no socket,
    no client library), from one connection."""
    await asgi_call(app, "warm up")
    for q in queries:
        t = time.perf_counter()
        await asgi_call(app, q)
        out.append(time.perf_counter() - t)


def profile(library: Library, settings: Settings, queries: list[str]) -> dict[str, float]:
    """Median milliseconds of each part of a /search request, in this process.

    The encodes go through the library's batching embedder to the model's own thread. The
    framework's share is the app called as ASGI with a stub embedder (random vectors, no model,
    behind the same batching embedder, its calls parallel as ONNX Runtime's) minus that stub's
    search; the app with the real model is timed too, as context.
    """
    index = library.index()
    names = ("encode", "faiss", "dense", "hybrid", "json", "stub_search", "asgi_stub", "asgi")
    parts: dict[str, list[float]] = {k: [] for k in names}

    def direct(q: str) -> None:
        got = []
        parts["encode"].append(timed(lambda: got.append(library.embedder.embed([q]))))
        vector = got[0]  # the later searches find it in the query cache
        parts["faiss"].append(timed(lambda: index.faiss_index.search(vector, 10)))
        parts["dense"].append(timed(lambda: index.search(q, 10, mode="dense")))
        hits = []
        parts["hybrid"].append(timed(lambda: hits.extend(index.search(q, 10))))
        body = {"query": q, "results": [h.to_dict() for h in hits]}
        parts["json"].append(timed(lambda: json.dumps(body).encode()))

    half = len(queries) // 2
    with ThreadPoolExecutor(1) as pool:
        pool.submit(direct, "warm up").result()
        for q in queries[:half]:
            pool.submit(direct, q).result()
    stub = stub_library(settings, library.embedder.name)
    stub_index = stub.index()
    stub_vectors = RandomEmbedder().embed(queries[:half])
    parts["stub_search"] = [
        timed(lambda q=q, v=v: stub_index.search(q, 10, vector=v))
        for q, v in zip(queries[:half], stub_vectors, strict=True)
    ]
    # fresh queries through the apps: nothing in their query caches
    asyncio.run(_asgi(create_app(stub), queries[half:], parts["asgi_stub"]))
    asyncio.run(_asgi(create_app(library), queries[half:], parts["asgi"]))
    return {k: median(v) * 1000 for k, v in parts.items()}
