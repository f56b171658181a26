"""``/search`` without a thread per request: the query is encoded on the model's workers
(index/embedding/batching.py) while the event loop waits, and a small index is searched on the loop.

A sync endpoint costs every request a hop to a threadpool thread that then blocks on the
model's worker; bench/performance/perf_query.py measured that hop, and its share of the server's
time
under load, before this module. The search after the encode takes well under a millisecond
on a list of a few thousand entries (0.2 ms at 245) but grows with the list (4 ms at 100,000
in hybrid mode, docs/benchmarks.md), so beyond ``INLINE_UP_TO`` entries, or with another
vector store (a network call), it goes to the threadpool instead of holding up the loop.

A lone client is answered without any hand-off: when no search is in flight and the one
before came from the same connection, the query is encoded on the loop's own thread
(``BatchingEmbedder.embed_now``, when the model is idle). The two hand-offs to a worker and
back cost 2-4 ms under contention (perf_query.py's layers), as much as half an encode; a
second client arriving meanwhile waits for at most that one encode, and from then on the
clients take turns, so their queries go through the workers, batched.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import fields

import numpy as np
from starlette.concurrency import run_in_threadpool

from secml_papers.corpus.records import Paper
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.search.paper_index import Filters, Hit, PaperIndex, check_mode, check_query
from secml_papers.service.library import Library

INLINE_UP_TO = 10_000
_PAPER_FIELDS = tuple(f.name for f in fields(Paper))


class Searchers:
    """Which connection searched last, and how many searches are in flight (the loop's own
    bookkeeping: only the event loop's thread calls it)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._last: Hashable = None

    def arrive(self, connection: Hashable) -> bool:
        """Count a search in; True when it is alone: nothing in flight, and the search before
        it came from the same connection (a client that waits for each answer before it asks
        again; several clients take turns, and a new connection is company until it asks
        twice in a row)."""
        alone = self.in_flight == 0 and connection is not None and connection == self._last
        self._last = connection
        self.in_flight += 1
        return alone

    def leave(self) -> None:
        self.in_flight -= 1


async def query_vector(embedder: Embedder, text: str, alone: bool = False) -> np.ndarray:
    """The query's embedding: on this thread for a lone client when the model is idle, else
    through the batching worker when there is one."""
    if alone:
        embed_now = getattr(embedder, "embed_now", None)
        vector = embed_now(text) if embed_now is not None else None
        if vector is not None:
            return vector
    embed_async = getattr(embedder, "embed_one_async", None)
    if embed_async is not None:
        return await embed_async(text)
    return (await run_in_threadpool(embedder.embed, [text]))[0]


async def search(
    library: Library, q: str, k: int, filters: Filters, mode: str, alone: bool = False
) -> list[Hit]:
    index: PaperIndex = library.loaded_index or await run_in_threadpool(library.index)
    text, mode = check_query(q), check_mode(mode)
    vector = None if mode == "bm25" else await query_vector(library.embedder, text, alone)
    if index.faiss_index is not None and len(index.papers) <= INLINE_UP_TO:
        return index.search(text, k, filters, mode, vector=vector)
    return await run_in_threadpool(index.search, text, k, filters, mode, vector)


def hit_dict(hit: Hit) -> dict:
    """``hit.to_dict()`` without ``dataclasses.asdict``'s deep copy of every field (a tenth of
    a millisecond for ten hits, perf_query.py's layers): the same keys and values."""
    paper = hit.paper
    data = {name: getattr(paper, name) for name in _PAPER_FIELDS}
    data["section"] = list(paper.section)
    data["tags"] = list(paper.tags)
    data["score"] = round(hit.score, 4)
    return data
