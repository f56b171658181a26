"""Cost bounds and fair sharing on the expensive endpoints (service/limits.py), through the
real app served on 127.0.0.1 with a fake embedder that can be made to block."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.limits import TokenBuckets
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve

ANCHOR = "### Membership Inference Attacks\n"
BLOCK = "Blocking Probe"  # a title the blocking embedder waits on


def adding(base: str, n: int) -> str:
    entries = "".join(
        f'- Tester et al. [**"Synthetic Attack Number {i} on Learned Models"**]'
        f"(https://example.org/paper/{i}) @ **ICML 2024**.\n"
        for i in range(n)
    )
    return base.replace(ANCHOR, f"{ANCHOR}\n{entries}", 1)


class BlockingEmbedder(FakeEmbedder):
    """Waits on ``release`` whenever it is asked to embed a text naming :data:`BLOCK`."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any(BLOCK in t for t in texts):
            self.entered.set()
            assert self.release.wait(30), "the test never released the embedder"
        return super().embed(texts)


def _library(tmp_path: Path, embedder: FakeEmbedder, **settings: object) -> Library:
    library = Library(Settings(index_dir=tmp_path / "index", **settings), embedder)
    library.index()
    _ = library.categorizer.temperature  # fitted before serving, as `serve` does
    return library


@contextmanager
def blocked(url: str, embedder: BlockingEmbedder) -> Iterator[list[httpx.Response]]:
    """One /categorize holding a slot in the embedder until the block ends."""
    answers: list[httpx.Response] = []

    def call() -> None:
        answers.append(httpx.post(f"{url}/categorize", json={"title": BLOCK}, timeout=60))

    thread = threading.Thread(target=call)
    thread.start()
    assert embedder.entered.wait(30)
    try:
        yield answers
    finally:
        embedder.release.set()
        thread.join(60)


def _retry_after(response: httpx.Response) -> int:
    return int(response.headers["retry-after"])


def test_a_check_adding_5000_entries_is_refused_before_any_embedding(
    tmp_path: Path, fake_embedder: FakeEmbedder, bundled_text: str
) -> None:
    library = _library(tmp_path, fake_embedder)
    calls = len(fake_embedder.calls)
    with serve(create_app(library)) as url:
        body = {"base": bundled_text, "head": adding(bundled_text, 5000)}
        response = httpx.post(f"{url}/check-pr", json=body, timeout=60)
        embedded = len(fake_embedder.calls) - calls
        over = httpx.post(
            f"{url}/check-pr", json={"base": bundled_text, "head": adding(bundled_text, 101)}
        )
        small = httpx.post(
            f"{url}/check-pr", json={"base": bundled_text, "head": adding(bundled_text, 3)}
        )
    assert response.status_code == 413, response.text
    assert "at most" in response.json()["detail"]
    assert embedded == 0  # nothing was embedded for the refused request
    assert over.status_code == 413
    assert over.json()["detail"].startswith("the pull request adds 101 entries; this server")
    assert small.status_code == 200 and len(small.json()["added"]) == 3


def test_a_check_removing_more_than_the_bound_is_refused(
    tmp_path: Path, fake_embedder: FakeEmbedder, bundled_text: str
) -> None:
    library = _library(tmp_path, fake_embedder, max_changed_entries=3)
    lines = bundled_text.splitlines(keepends=True)
    entries = [i for i, line in enumerate(lines) if line.startswith("- ")][:5]
    head = "".join(line for i, line in enumerate(lines) if i not in entries)
    calls = len(fake_embedder.calls)
    with serve(create_app(library)) as url:
        response = httpx.post(f"{url}/check-pr", json={"base": bundled_text, "head": head})
    assert response.status_code == 413, response.text
    assert "at most 3" in response.json()["detail"]
    assert len(fake_embedder.calls) == calls


def test_saturated_slots_answer_429_and_search_stays_open(tmp_path: Path) -> None:
    embedder = BlockingEmbedder()
    library = _library(tmp_path, embedder, max_in_flight=1, queue_wait=0)
    entry = library.paper_list.papers[0].id
    with serve(create_app(library)) as url, blocked(url, embedder) as first:
        busy = [
            httpx.post(f"{url}/categorize", json={"title": "A backdoor attack"}),
            httpx.post(f"{url}/related", json={"title": "A backdoor attack"}),
            httpx.post(f"{url}/check-pr", json={"base": "", "head": ""}),
        ]
        search = httpx.get(f"{url}/search", params={"q": "backdoor", "k": 3})
        cheap = httpx.post(f"{url}/related", json={"id": entry, "k": 3})
        page = httpx.get(f"{url}/")
    for response in busy:
        assert response.status_code == 429, response.text
        assert _retry_after(response) >= 1
        assert "busy" in response.json()["detail"]
    assert search.status_code == 200 and search.json()["results"]
    assert cheap.status_code == 200  # an entry's related papers embed nothing
    assert page.status_code == 200
    assert [r.status_code for r in first] == [200]


def test_a_request_over_its_time_budget_answers_503_and_keeps_its_slot(tmp_path: Path) -> None:
    embedder = BlockingEmbedder()
    library = _library(tmp_path, embedder, max_in_flight=1, queue_wait=0, time_budget=0.3)
    with serve(create_app(library)) as url:
        with blocked(url, embedder) as first:
            while not first and embedder.entered.is_set():
                threading.Event().wait(0.02)  # the first answer comes from the budget
            after = httpx.post(f"{url}/categorize", json={"title": "A backdoor attack"})
        later = httpx.post(f"{url}/categorize", json={"title": "A backdoor attack"})
    assert first[0].status_code == 503
    assert _retry_after(first[0]) >= 1 and "budget" in first[0].json()["detail"]
    assert after.status_code == 429  # the late work still holds the one slot
    assert later.status_code == 200


def test_token_buckets_refuse_past_the_burst_and_recover() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0.0  # another client has its own bucket
    now[0] += 1.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_rate_limit_over_http(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    library = _library(tmp_path, fake_embedder, rate_per_minute=1, rate_burst=2)
    app = create_app(library)
    body = {"title": "A backdoor attack"}
    with serve(app) as url:
        statuses = [httpx.post(f"{url}/categorize", json=body) for _ in range(3)]
        search = httpx.get(f"{url}/search", params={"q": "backdoor"})
        now = app.state.limits.buckets.clock() + 60.0
        app.state.limits.buckets.clock = lambda: now
        again = httpx.post(f"{url}/categorize", json=body)
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert _retry_after(statuses[2]) >= 1 and "too many" in statuses[2].json()["detail"]
    assert search.status_code == 200
    assert again.status_code == 200


def test_the_api_key_guards_only_the_expensive_endpoints(
    tmp_path: Path, fake_embedder: FakeEmbedder, bundled_text: str
) -> None:
    library = _library(tmp_path, fake_embedder, api_key="s3cret-key")
    expensive = [
        ("/categorize", {"title": "A backdoor attack"}),
        ("/related", {"title": "A backdoor attack"}),
        ("/check-pr", {"base": bundled_text, "head": bundled_text}),
    ]
    with serve(create_app(library)) as url, httpx.Client(base_url=url, timeout=60) as http:
        for path, body in expensive:
            refused = http.post(path, json=body)
            assert refused.status_code == 401, path
            assert "API key" in refused.json()["detail"]
            assert http.post(path, json=body, headers={"X-API-Key": "wrong"}).status_code == 401
            assert http.post(path, json=body, headers={"X-API-Key": "s3cret-key"}).is_success
            bearer = {"Authorization": "Bearer s3cret-key"}
            assert http.post(path, json=body, headers=bearer).status_code == 200
        for path in ("/search?q=backdoor", "/papers", "/sections", "/health", "/"):
            assert http.get(path).status_code == 200, path
