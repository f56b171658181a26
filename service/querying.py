"""``/search`` without a thread per request: the query is encoded on the model's workers
(index/embedding/batching.py) while the event loop waits, and a small index is searched on the loop.

A sync endpoint costs every request a hop to a threadpool thread that then blocks on the
model's worker; bench/performance/perf_query.py measured that hop, and its share of the server's
time
under load, before this module. The search after the encode takes well under a millisecond
on a list of a few thousand entries (0.2 ms at 245) but grows with the list (4 ms at 100,000
in hybrid mode, docs/benchmarks.md), so beyond ``INLINE_UP_TO`` entries, or with another
vector store (a network call), it goes to the threadpool instead of holding up the loop.
"""

from __future__ import annotations

import numpy as np
from starlette.concurrency import run_in_threadpool

from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.search.paper_index import Filters, Hit, PaperIndex, check_mode, check_query
from secml_papers.service.library import Library

INLINE_UP_TO = 10_000


async def query_vector(embedder: Embedder, text: str) -> np.ndarray:
    """The query's embedding: through the batching worker when there is one."""
    embed_async = getattr(embedder, "embed_one_async", None)
    if embed_async is not None:
        return await embed_async(text)
    return (await run_in_threadpool(embedder.embed, [text]))[0]


async def search(library: Library, q: str, k: int, filters: Filters, mode: str) -> list[Hit]:
    index: PaperIndex = library.loaded_index or await run_in_threadpool(library.index)
    text, mode = check_query(q), check_mode(mode)
    vector = None if mode == "bm25" else await query_vector(library.embedder, text)
    if index.faiss_index is not None and len(index.papers) <= INLINE_UP_TO:
        return index.search(text, k, filters, mode, vector=vector)
    return await run_in_threadpool(index.search, text, k, filters, mode, vector)
