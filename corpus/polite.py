"""A polite HTTP client for the abstract sources: one per API, so each keeps its own pace.

Public scholarly APIs ask callers to space their requests (arXiv about one per 3 s, Semantic
Scholar about one per second without a key) and answer 429/503 with ``Retry-After`` when they
are pushed. The client waits its turn before every request, honours ``Retry-After``, backs off
exponentially with jitter on server errors and timeouts, and gives up after a few tries with a
:class:`SourceError` that the enrichment counts instead of crashing. ``sleep``, ``clock`` and
``jitter`` are injectable so the tests can check the waits without spending them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

USER_AGENT = "secml-papers/0.1"
RETRY_AFTER_STATUSES = (429, 503)


class SourceError(Exception):
    """A source could not answer this time (after retries); the entry is tried again next run."""


@dataclass(frozen=True)
class Politeness:
    """How one API is treated. ``interval`` is the least time between two requests, in s."""

    interval: float = 1.0
    timeout: float = 20.0
    max_retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_wait: float = 300.0  # a longer Retry-After means "not today": give up on the source


def user_agent(contact: str | None) -> str:
    """Crossref and OpenAlex route callers that say who they are to their polite pool."""
    return f"{USER_AGENT} (mailto:{contact})" if contact else USER_AGENT


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number, or an HTTP date.

    >>> retry_after_seconds("2")
    2.0
    >>> now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now)
    30.0
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteClient:
    """GET requests to one API, spaced by ``interval``, retried on 429/5xx/timeouts."""

    def __init__(
        self,
        name: str,
        base_url: str,
        politeness: Politeness,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.politeness = politeness
        self._params = dict(params or {})
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._next_at = 0.0
        self.requests = 0
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            timeout=politeness.timeout,
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> httpx.Response:
        """The response once it is neither a 429/5xx nor a transport failure; else SourceError.

        4xx answers other than 429 come back as they are: a 404 is an answer ("not here").
        """
        p = self.politeness
        query = {**self._params, **(params or {})}
        for attempt in range(p.max_retries + 1):
            self._wait_turn()
            wait: float | None = None
            try:
                response = self._http.get(path, params=query)
            except httpx.TimeoutException:
                reason = f"timed out after {p.timeout:g} s"
            except httpx.TransportError as err:
                reason = f"cannot connect ({err or type(err).__name__})"
            else:
                status = response.status_code
                if status < 500 and status not in RETRY_AFTER_STATUSES:
                    return response
                reason = f"HTTP {status}"
                if status in RETRY_AFTER_STATUSES:
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    if wait is not None and wait > p.max_wait:
                        raise SourceError(f"{self.name} asks to wait {wait:.0f} s ({reason})")
            if attempt == p.max_retries:
                break
            if wait is None:
                wait = min(p.max_backoff, p.backoff * 2**attempt * (0.5 + self._jitter()))
            self._sleep(wait)
        raise SourceError(f"{self.name}: {reason} ({p.max_retries + 1} tries)")

    def _wait_turn(self) -> None:
        now = self._clock()
        if self._next_at > now:
            self._sleep(self._next_at - now)
            now = self._clock()
        self._next_at = now + self.politeness.interval
        self.requests += 1
