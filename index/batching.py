"""Query encoding for a server: one model call for many concurrent queries, and a cache.

The model answers 16 short queries in one call little slower than one (the work is matrix
products that a batch fills better), but a server that encodes each request on its own, under
the model's lock, makes concurrent clients wait in line. :class:`BatchingEmbedder` puts
single-text calls on a queue that one worker drains: whatever arrived while the model was busy
goes into the next call together. Nothing waits for company when the server is idle, so a lone
query costs what it did. Repeated queries (a popular search, the page's "related" links, the
categorizer's probes) come from an LRU cache of vectors. Multi-text calls (builds) go straight
to the model.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from secml_papers.index.embedder import Embedder

MAX_BATCH = 32
CACHE_SIZE = 2048


class BatchingEmbedder:
    """An :class:`Embedder` that batches concurrent single-text calls and caches them."""

    def __init__(
        self, inner: Embedder, max_batch: int = MAX_BATCH, cache_size: int = CACHE_SIZE
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_batch = max_batch
        self.cache_size = cache_size
        self.calls = 0  # model calls made for single texts, for the benchmarks and tests
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[str, Future]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.embed(texts)
        return self.embed_one(texts[0])[None, :]

    def embed_one(self, text: str) -> np.ndarray:
        cached = self._cached(text)
        if cached is not None:
            return cached
        future: Future = Future()
        self._ensure_worker()
        self._queue.put((text, future))
        vector = future.result()
        self._remember(text, vector)
        return vector

    def _cached(self, text: str) -> np.ndarray | None:
        with self._cache_lock:
            vector = self._cache.get(text)
            if vector is not None:
                self._cache.move_to_end(text)
            return vector

    def _remember(self, text: str, vector: np.ndarray) -> None:
        with self._cache_lock:
            self._cache[text] = vector
            self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name="secml-query-encoder", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            texts = list(dict.fromkeys(text for text, _ in batch))  # one row per distinct text
            try:
                vectors = self.inner.embed(texts)
                self.calls += 1
            except BaseException as err:  # the callers get the error, the worker lives on
                for _, future in batch:
                    future.set_exception(err)
                continue
            rows = {text: vectors[i] for i, text in enumerate(texts)}
            for text, future in batch:
                future.set_result(np.array(rows[text], dtype=np.float32, copy=True))
