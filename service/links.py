"""The opt-in link checker behind `check-pr --check-links`, in the spirit of awesome_bot.

Links in an awesome list rot quietly: a paper page starts answering 404, or a lapsed domain
redirects to a parking page that answers 200. So redirects are followed by hand, hop by hop,
to tell a move within the same site (a note) from a jump to another host (a problem).
The checker is polite to the sites it visits (HEAD first, a per-host interval, a cap on the
number of requests) and never raises for a network problem: every link gets a `LinkResult`.
Every hop goes through the address guard (`service/netguard.py`): a host is resolved once, a
link or redirect to a loopback, private or otherwise non-public address is `refused` without
a request, and the connection goes to the address that was vetted (`service/pinning.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import httpx

from secml_papers.service.netguard import AddressPolicy, Refused
from secml_papers.service.pinning import PinnedTransport, Pins

MAX_REDIRECTS = 5
_HEAD_REFUSED = frozenset({403, 405, 501})
_PROBLEMS = frozenset({"dead", "timeout", "error", "redirect-other-host", "refused"})
# No project URL is published yet; add "+https://..." here once there is one.
DEFAULT_USER_AGENT = "secml-papers link check (awesome-list link checker)"


@dataclass(frozen=True)
class LinkResult:
    """What happened to one link of the list, reported once per line that carries it."""

    url: str
    line: int
    status: int | None
    kind: str
    detail: str
    final_url: str | None

    def to_dict(self) -> dict:
        return {**asdict(self), "problem": self.is_problem}

    @property
    def is_problem(self) -> bool:
        """A same-host redirect or a skipped link is worth a note, not a failed check."""
        return self.kind in _PROBLEMS


@dataclass(frozen=True)
class _Outcome:
    status: int | None
    kind: str
    detail: str
    final_url: str | None = None


class _CapReached(Exception):
    """Raised inside a check when the run's request budget is spent."""


class _Budget:
    """Counts every HTTP request (HEAD, GET, redirect hop) against one cap, across threads."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self._left <= 0:
                raise _CapReached
            self._left -= 1


class _Pacer:
    """Keeps requests to one host at least `interval` seconds apart, across threads.

    Each host has its own lock, held through the sleep, and the start time is taken after
    waking: a thread that oversleeps pushes the next request back instead of crowding it, and
    threads waiting for different hosts never block each other.
    """

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def wait(self, host: str) -> None:
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            last = self._last.get(host)
            if last is not None:
                delay = last + self._interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self._last[host] = time.monotonic()


def _bare_host(url: str) -> str:
    host = (httpx.URL(url).host or "").lower().rstrip(".")
    return host.removeprefix("www.")


def _same_host(a: str, b: str) -> bool:
    """Same site despite `www.` or an http->https upgrade; ports and schemes are not compared."""
    return _bare_host(a) == _bare_host(b)


def _malformed(url: str) -> str | None:
    """Why an http(s) URL cannot be requested at all, or None when it looks requestable."""
    if any(ch.isspace() for ch in url):
        return "malformed URL (contains whitespace)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        return f"malformed URL ({exc})"
    if not parts.hostname:
        return "malformed URL (no host)"
    return None


class _Checker:
    def __init__(
        self, client: httpx.Client, budget: _Budget, pacer: _Pacer, timeout: float, pins: Pins
    ):
        self._client = client
        self._budget = budget
        self._pacer = pacer
        self._timeout = timeout
        self._pins = pins

    def _request(self, method: str, url: str) -> httpx.Response:
        """One vetted, budgeted, paced request; a GET is streamed and closed after its headers."""
        self._pins.vet(httpx.URL(url))  # before the budget: a refusal sends nothing
        self._budget.take()
        self._pacer.wait(_bare_host(url))
        if method == "HEAD":
            return self._client.head(url)
        with self._client.stream("GET", url) as response:
            return response

    def _fetch(self, url: str) -> httpx.Response:
        """HEAD first; some servers refuse or drop HEAD but answer GET, so retry with GET."""
        try:
            response = self._request("HEAD", url)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            return self._request("GET", url)
        if response.status_code in _HEAD_REFUSED:
            return self._request("GET", url)
        return response

    def check(self, url: str) -> _Outcome:
        if not url:
            return _Outcome(None, "skipped", "empty link")
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return _Outcome(None, "skipped", "not an http(s) link")
        problem = _malformed(url)
        if problem:
            return _Outcome(None, "error", problem)
        current = url
        seen = {url}
        response = None
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                response = self._fetch(current)
                location = response.headers.get("location")
                if not response.is_redirect or not location:
                    break
                target = str(httpx.URL(current).join(location))
                if target in seen:
                    return _Outcome(
                        response.status_code, "error", f"redirect loop back to {target}", current
                    )
                seen.add(target)
                current = target
            else:
                return _Outcome(
                    response.status_code, "error", f"more than {MAX_REDIRECTS} redirects", current
                )
        except Refused as err:
            return _Outcome(None, "refused", _refusal(url, current, response, err), current)
        except _CapReached:
            return _Outcome(None, "skipped", "not checked: the cap on requests per run was reached")
        except httpx.TimeoutException:
            return _Outcome(None, "timeout", f"timed out after {self._timeout:g} s", current)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            return _Outcome(None, "error", f"could not connect: {reason}", current)
        return self._classify(url, current, response)

    @staticmethod
    def _classify(url: str, final: str, response: httpx.Response) -> _Outcome:
        """The last status of the chain decides dead or alive; the hosts decide the note."""
        status = response.status_code
        reason = response.reason_phrase or httpx.codes.get_reason_phrase(status)
        phrase = f"{status} {reason}".strip()
        moved = final != url
        if status >= 400:
            via = f" (after redirecting to {final})" if moved else ""
            return _Outcome(status, "dead", phrase + via, final)
        if response.is_redirect:
            return _Outcome(status, "error", f"{phrase} without a Location header", final)
        if not moved:
            return _Outcome(status, "ok", phrase, final)
        if _same_host(url, final):
            return _Outcome(
                status, "redirect-same-host", f"redirects to {final} (same host)", final
            )
        return _Outcome(
            status, "redirect-other-host", f"redirects to {final} (another host)", final
        )


def _refusal(url: str, current: str, response: httpx.Response | None, err: Refused) -> str:
    why = f"{err}; link checks reach only public addresses"
    if current == url:
        return f"not requested: {why}"
    status = response.status_code if response is not None else "a redirect"
    return f"redirect not followed: {url} answered {status} to {current}, and {why}"


def check_links(
    links: Sequence[tuple[str, int]],
    *,
    timeout: float = 10.0,
    per_host_interval: float = 1.0,
    max_requests: int = 50,
    concurrency: int = 4,
    user_agent: str = DEFAULT_USER_AGENT,
    transport: httpx.BaseTransport | None = None,
    policy: AddressPolicy | None = None,
) -> list[LinkResult]:
    """Check `(url, line)` pairs and return one result per pair, in the order given.

    Identical URLs are requested once and reported for every line that carries them. Runs
    synchronously on its own thread pool, so a CLI command and a sync FastAPI endpoint can
    both call it directly. ``policy`` says which addresses may be reached (default: public
    ones only); a ``transport`` (tests) is used as given, after the same vetting.
    """
    unique = list(dict.fromkeys(url.strip() for url, _ in links))
    budget = _Budget(max_requests)
    pacer = _Pacer(per_host_interval)
    pins = Pins(policy or AddressPolicy())
    with httpx.Client(
        transport=transport or PinnedTransport(pins),
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": user_agent},
    ) as client:
        checker = _Checker(client, budget, pacer, timeout, pins)
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            outcomes = dict(zip(unique, pool.map(checker.check, unique), strict=True))
    results = []
    for url, line in links:
        outcome = outcomes[url.strip()]
        results.append(
            LinkResult(url, line, outcome.status, outcome.kind, outcome.detail, outcome.final_url)
        )
    return results
