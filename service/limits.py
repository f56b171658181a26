"""Fair sharing for the expensive endpoints, so searches stay fast while they run.

``POST /check-pr``, ``POST /categorize`` and ``POST /related`` with free text run the model
and the categorizer: seconds of CPU where a search takes milliseconds. Each goes through
:meth:`Limits.guard`, a FastAPI dependency, before its handler starts:

1. the API key, when the operator set one (``SECML_PAPERS_API_KEY``): 401 without it;
2. the client's token bucket, when a rate is set (``SECML_PAPERS_RATE_PER_MINUTE``): 429;
3. a slot among ``max_in_flight``, waited for up to ``queue_wait`` seconds: else 429.

Refusals carry ``Retry-After`` and one sentence, and cost no thread. :class:`TimeBudget`
answers 503 when an expensive request has not answered within its budget; its work finishes
in the background and keeps its slot until then, so overruns still count against the bound.
``/search``, ``/papers``, ``/sections``, ``/health`` and the page are never guarded.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import threading
import time
from collections.abc import AsyncIterator, Callable

from fastapi import Depends, FastAPI, HTTPException, Request

from secml_papers.service.security import ASGIApp, Message, Receive, Scope, Send
from secml_papers.service.settings import Settings

EXPENSIVE_PATHS = ("/check-pr", "/categorize", "/related")
MAX_CLIENTS = 10_000  # token buckets kept; full ones are forgotten first
_POLL = 0.02


class TokenBuckets:
    """One bucket per client: ``burst`` requests at once, then ``per_minute`` a minute."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = per_minute / 60.0, max(1, burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when ``client`` may go now, else the seconds until it may."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._forget(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        if len(self._buckets) <= MAX_CLIENTS:
            return
        refill = self.burst / self.rate
        self._buckets = {c: (t, s) for c, (t, s) in self._buckets.items() if now - s < refill}
        while len(self._buckets) > MAX_CLIENTS:  # all recent: the oldest go
            self._buckets.pop(next(iter(self._buckets)))


class Limits:
    """The expensive endpoints' guard for one app, from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.in_flight = 0
        self._lock = threading.Lock()
        rate = settings.rate_per_minute
        self.buckets = TokenBuckets(rate, settings.rate_burst) if rate > 0 else None

    async def guard(self, request: Request) -> AsyncIterator[None]:
        """A FastAPI dependency: refuse, or hold a slot while the handler runs."""
        self._check_key(request)
        if request.url.path == "/related" and await _names_an_entry(request):
            yield  # related papers of a listed entry: its vector is stored, nothing to embed
            return
        if self.buckets is not None:
            client = request.client.host if request.client else "unknown"
            wait = self.buckets.take(client)
            if wait > 0:
                _refuse(429, "this client has made too many expensive requests", wait)
        if not await self._acquire():
            _refuse(429, "the server is busy with other expensive requests", _BUSY_RETRY)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _acquire(self) -> bool:
        deadline = time.monotonic() + self.settings.queue_wait
        while True:
            with self._lock:
                if self.in_flight < max(1, self.settings.max_in_flight):
                    self.in_flight += 1
                    return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL)

    def _check_key(self, request: Request) -> None:
        key = self.settings.api_key
        if not key:
            return
        given = request.headers.get("x-api-key", "")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not given and scheme.lower() == "bearer":
            given = token.strip()
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise HTTPException(
                401,
                "this endpoint needs the server's API key, in X-API-Key or Authorization: Bearer",
                headers={"WWW-Authenticate": "Bearer"},
            )


_BUSY_RETRY = 5.0


def _refuse(status: int, why: str, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    raise HTTPException(
        status, f"{why}; try again in {seconds} s", headers={"Retry-After": str(seconds)}
    )


async def _names_an_entry(request: Request) -> bool:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and bool(body.get("id"))


class TimeBudget:
    """503 with ``Retry-After`` when an expensive request has not started answering in time.

    The handler runs on in a thread that cannot be stopped; it finishes in the background,
    holding its slot, and what it sends is dropped.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds
        self._late: set[asyncio.Task] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.seconds <= 0
            or scope.get("method") != "POST"
            or scope.get("path") not in EXPENSIVE_PATHS
        ):
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()
        late = False

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set()
            if not late:
                await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, timed_send))
        waiter = asyncio.ensure_future(started.wait())
        await asyncio.wait({task, waiter}, timeout=self.seconds, return_when="FIRST_COMPLETED")
        waiter.cancel()
        if started.is_set() or task.done():
            await task
            return
        late = True
        self._late.add(task)
        task.add_done_callback(self._done)
        await _answer_late(send, self.seconds)

    def _done(self, task: asyncio.Task) -> None:
        self._late.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: the late handler's error is not the caller's


async def _answer_late(send: Send, seconds: float) -> None:
    detail = (
        f"the request took longer than this server's budget of {seconds:g} s; try a smaller one"
    )
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(max(1, math.ceil(seconds))).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> object:
    """The time budget on ``app`` and the guard to put on its expensive routes."""
    limits = Limits(settings)
    app.state.limits = limits
    app.add_middleware(TimeBudget, seconds=settings.time_budget)
    return Depends(limits.guard)
