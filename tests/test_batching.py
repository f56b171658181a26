"""Concurrent single queries share model calls; repeats come from the cache; errors reach callers."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from secml_papers.index.embedding.batching import BatchingEmbedder

from .conftest import FakeEmbedder


class SlowEmbedder(FakeEmbedder):
    """A model call that takes a while, as the real one does, and records its batches."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self.fail_on: str | None = None

    def embed(self, texts):
        self.batches.append(list(texts))
        self.threads.add(threading.get_ident())
        time.sleep(0.05)
        if self.fail_on in texts:
            raise RuntimeError("the model failed")
        return super().embed(texts)


def test_concurrent_queries_are_encoded_together_and_correctly() -> None:
    inner = SlowEmbedder()
    batching = BatchingEmbedder(inner)
    queries = [f"backdoor query number {i}" for i in range(40)]
    with ThreadPoolExecutor(max_workers=40) as pool:
        vectors = list(pool.map(lambda q: batching.embed([q])[0], queries))
    expected = FakeEmbedder().embed(queries)
    assert np.allclose(np.array(vectors), expected)  # each caller got its own text's vector
    assert sum(len(b) for b in inner.batches) == len(queries)
    assert len(inner.batches) < len(queries) / 2  # calls were shared, not one per query


def test_repeated_queries_come_from_the_cache_and_builds_go_straight_through() -> None:
    inner = SlowEmbedder()
    batching = BatchingEmbedder(inner, cache_size=2)
    first = batching.embed(["membership inference"])
    again = batching.embed(["membership inference"])
    assert np.array_equal(first, again) and len(inner.batches) == 1
    batching.embed(["a"]), batching.embed(["b"])  # the first query is evicted
    batching.embed(["membership inference"])
    assert len(inner.batches) == 4
    rows = batching.embed(["x", "y", "z"])
    assert rows.shape == (3, inner.dim) and inner.batches[-1] == ["x", "y", "z"]


def test_a_failed_model_call_reaches_its_callers_and_the_worker_lives_on() -> None:
    inner = SlowEmbedder()
    inner.fail_on = "bad"
    batching = BatchingEmbedder(inner)
    with pytest.raises(RuntimeError, match="the model failed"):
        batching.embed(["bad"])
    assert batching.embed(["good"]).shape == (1, inner.dim)
    assert threading.active_count() >= 1


def test_every_model_call_runs_on_one_thread_that_is_not_the_callers() -> None:
    inner = SlowEmbedder()
    batching = BatchingEmbedder(inner)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda q: batching.embed([q]), [f"query {i}" for i in range(16)]))
        list(pool.map(lambda n: batching.embed([f"text {n}-{i}" for i in range(n)]), [2, 3, 5]))
    batching.embed(["from the main thread", "two texts"])
    assert len(inner.threads) == 1
    assert threading.get_ident() not in inner.threads
    inner.fail_on = "bad"
    with pytest.raises(RuntimeError, match="the model failed"):
        batching.embed(["bad", "and another"])
    assert batching.embed(["still", "alive"]).shape == (2, inner.dim)


def test_event_loop_callers_share_model_calls_and_the_cache() -> None:
    inner = SlowEmbedder()
    batching = BatchingEmbedder(inner)
    queries = [f"federated backdoor query {i}" for i in range(20)]

    async def ask_all() -> list:
        return await asyncio.gather(*(batching.embed_one_async(q) for q in queries))

    vectors = asyncio.run(ask_all())
    assert np.allclose(np.array(vectors), FakeEmbedder().embed(queries))
    assert len(inner.batches) < len(queries) / 2
    calls = len(inner.batches)
    assert np.array_equal(asyncio.run(batching.embed_one_async(queries[3])), vectors[3])
    assert len(inner.batches) == calls  # from the cache
    inner.fail_on = "bad"
    with pytest.raises(RuntimeError, match="the model failed"):
        asyncio.run(batching.embed_one_async("bad"))


def test_a_lone_client_never_waits_and_a_busy_server_waits_for_company() -> None:
    inner = SlowEmbedder()
    batching = BatchingEmbedder(inner)
    for i in range(5):
        batching.embed([f"one after another {i}"])
    assert batching.waits == 0 and [len(b) for b in inner.batches] == [1] * 5
    with ThreadPoolExecutor(max_workers=8) as pool:
        for round_ in range(3):
            texts = [f"round {round_} query {i}" for i in range(8)]
            list(pool.map(lambda text: batching.embed([text]), texts))
    assert batching.waits > 0  # after a call of several, the next one waited for more
    for i in range(3):
        batching.embed([f"quiet again {i}"])
    assert [len(b) for b in inner.batches[-3:]] == [1, 1, 1]


def test_a_model_whose_calls_may_run_side_by_side_gets_a_worker_per_call() -> None:
    inner = SlowEmbedder()
    inner.parallel_calls = 2
    batching = BatchingEmbedder(inner)
    batching.embed(["the first call starts one worker"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        for round_ in range(3):
            texts = [f"side by side {round_} {i}" for i in range(8)]
            vectors = list(pool.map(lambda text: batching.embed([text])[0], texts))
            assert np.allclose(np.array(vectors), FakeEmbedder().embed(texts))
    assert len(inner.threads) == 2  # two workers took calls
    assert threading.get_ident() not in inner.threads
