"""Query encoding for a server: one thread for the model, one call for many concurrent queries.

A model call of several short queries costs less than that many calls of one (PyTorch: 16
queries took about three times one; ONNX Runtime gains less), but a server that encodes each
request on its own, under the model's lock, makes concurrent clients wait in line.
:class:`BatchingEmbedder` puts single-text calls on a queue that a worker drains: whatever
arrived while the model was busy
goes into the next call together. Nothing waits for company when the server is idle, so a lone
query costs what it did; under load (the last call held several queries) the next call waits
up to ``WINDOW`` for as many, since the same clients are about to send again: one call of
eight instead of a call of one and a call of seven. Repeated queries (a popular search, the
page's "related" links, the categorizer's probes) come from an LRU cache of vectors.

Every use of the model runs on the workers, the load and multi-text calls (builds, the
categorizer) included, with one exception: :meth:`BatchingEmbedder.embed_now`, a lone query
encoded on the caller's own thread when the model is idle and its calls may run side by side
(ONNX Runtime). Under contention each hand-off to a worker and back waits for the scheduler:
2-4 ms a query with the two cores busy elsewhere, where the encode itself took 5-10 ms
(bench/performance/perf_query.py's layers). With PyTorch there is one worker: torch gives each
thread that runs it a team of OpenMP threads, and a second team, idle or not, made one-query
encodes 2-3 ms slower (15-20%) in bench/performance/perf_query.py's measurements. ONNX
Runtime's calls may run side by side, one thread each (the model's ``parallel_calls``), so
there is a worker per core and no waiting for company: the second worker takes what arrives
while the first is busy.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import numpy as np

from secml_papers.index.embedding.embedder import Embedder

MAX_BATCH = 32
CACHE_SIZE = 2048
WINDOW = 0.003  # seconds a call may wait for the queries its last call suggests are coming

_ONE = "one"  # a single text, batched with the others waiting
_CALL = "call"  # anything else that touches the model, run on its own


class BatchingEmbedder:
    """An :class:`Embedder` that batches concurrent single-text calls and caches them."""

    def __init__(
        self,
        inner: Embedder,
        max_batch: int = MAX_BATCH,
        cache_size: int = CACHE_SIZE,
        window: float = WINDOW,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_batch = max_batch
        self.cache_size = cache_size
        self.window = window
        self._expected = 1  # queries in the last model call: how many to wait for
        self.waits = 0  # calls that waited for company (a lone client's never do)
        self.calls = 0  # model calls made for single texts, for the benchmarks and tests
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[str, Any, Future]] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._busy = 0  # model calls running now, on the workers or inline
        self._busy_lock = threading.Lock()
        self.inline = 0  # queries encoded by embed_now on the caller's thread

    @property
    def dim(self) -> int:
        return self._on_worker(lambda: self.inner.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self._on_worker(lambda: self.inner.embed(texts))
        return self.embed_one(texts[0])[None, :]

    def embed_one(self, text: str) -> np.ndarray:
        cached = self._cached(text)
        if cached is not None:
            return cached
        vector = self._submit(_ONE, text)
        self._remember(text, vector)
        return vector

    async def embed_one_async(self, text: str) -> np.ndarray:
        """:meth:`embed_one` for an event loop: it waits for the worker without a thread."""
        cached = self._cached(text)
        if cached is not None:
            return cached
        vector = await asyncio.wrap_future(self._enqueue(_ONE, text))
        self._remember(text, vector)
        return vector

    def embed_now(self, text: str) -> np.ndarray | None:
        """The query's vector computed on this thread, without a hand-off, when nothing else
        uses the model and its calls may run side by side; None otherwise (ask the workers).

        For a server's lone client: the caller blocks while the model runs (milliseconds),
        so it is only worth it when nobody else is waiting (service/querying.py decides)."""
        cached = self._cached(text)
        if cached is not None:
            return cached
        if int(getattr(self.inner, "parallel_calls", 1)) < 2:
            return None  # PyTorch: a second thread running the model slows every call
        with self._busy_lock:
            if self._busy or not self._queue.empty():
                return None
            self._busy += 1
        try:
            vector = np.array(self.inner.embed([text])[0], dtype=np.float32, copy=True)
            self.inline += 1
        finally:
            with self._busy_lock:
                self._busy -= 1
        self._remember(text, vector)
        return vector

    def _on_worker(self, fn: Callable[[], Any]) -> Any:
        if threading.current_thread() in self._workers:
            return fn()
        return self._submit(_CALL, fn)

    def _submit(self, kind: str, payload: Any) -> Any:
        return self._enqueue(kind, payload).result()

    def _enqueue(self, kind: str, payload: Any) -> Future:
        future: Future = Future()
        if not self._workers or not self._workers[0].is_alive():  # no lock on the hot path
            self._ensure_worker()
        self._queue.put((kind, payload, future))
        return future

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

    def _ensure_worker(self, wanted: int = 1) -> None:
        """At least ``wanted`` workers: one, and more once the model says its calls may run
        side by side (``parallel_calls``, ONNX Runtime's sessions)."""
        with self._start_lock:
            self._workers = [w for w in self._workers if w.is_alive()]
            while len(self._workers) < wanted:
                worker = threading.Thread(
                    target=self._run, name=f"secml-model-{len(self._workers)}", daemon=True
                )
                self._workers.append(worker)
                worker.start()

    def _run(self) -> None:
        held: tuple[str, Any, Future] | None = None
        while True:
            job = held or self._queue.get()
            held = None
            if job[0] == _CALL:
                with self._working():
                    _settle(job[2], job[1])
                continue
            batch = [job]
            # under load (the last call held several queries) the same clients are about to
            # send again: wait a moment for them rather than encode the first one alone (with
            # calls side by side, a second worker takes them instead)
            wanted = min(self._expected, self.max_batch) if len(self._workers) == 1 else 1
            deadline = time.monotonic() + self.window
            self.waits += wanted > 1
            while len(batch) < self.max_batch:
                wait = deadline - time.monotonic() if len(batch) < wanted else 0
                try:
                    job = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if job[0] == _CALL:  # runs after this batch, on its own
                    held = job
                    break
                batch.append(job)
            self._expected = len(batch)
            with self._working():
                self._encode(batch)
            parallel = int(getattr(self.inner, "parallel_calls", 1))
            if parallel > len(self._workers):
                self._ensure_worker(parallel)

    @contextmanager
    def _working(self) -> Iterator[None]:
        with self._busy_lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy -= 1

    def _encode(self, batch: list[tuple[str, Any, Future]]) -> None:
        texts = list(dict.fromkeys(text for _, text, _ in batch))  # one row per distinct text
        try:
            vectors = self.inner.embed(texts)
            self.calls += 1
        except BaseException as err:  # the callers get the error, the worker lives on
            for _, _, future in batch:
                future.set_exception(err)
            return
        rows = {text: vectors[i] for i, text in enumerate(texts)}
        for _, text, future in batch:
            future.set_result(np.array(rows[text], dtype=np.float32, copy=True))


def _settle(future: Future, fn: Callable[[], Any]) -> None:
    try:
        future.set_result(fn())
    except BaseException as err:  # the caller gets the error, the worker lives on
        future.set_exception(err)
