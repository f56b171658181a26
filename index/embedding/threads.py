"""How many threads torch gets for a small model call, chosen from measured times.

A one-query encode with torch's default threads (one per core) was the fastest on a quiet
machine (10-12 ms against 13 ms with one thread, bench/performance/perf_query.py), and the slowest
by far
when another process held a core: 230-490 ms, in the same minute that one thread took 13-15 ms.
Each small call runs many short parallel regions, and a thread that waits at their barriers
for a core it cannot get stalls the call. Shared and virtual machines are the common case, so
the count is not fixed: calls are grouped by size, each group keeps the recent times of every
candidate count, uses the one with the lowest median, and now and then tries another so it
notices when the machine changes. Large calls (builds) keep torch's default: their parallel
regions are long enough to amortise the waits.
"""

from __future__ import annotations

import statistics
from collections import deque

SMALL_CALL = 32  # texts; larger calls use the default count
WINDOW = 9  # recent times kept per (group, count)
EXPLORE_EVERY = 25  # calls of a group between two tries of another count
FAR_SLOWER = 2.0  # when every other count took this many times longer, ...
FAR_SLOWER_BACKOFF = 4  # ... they are tried this many times less often


def candidates(default: int) -> tuple[int, ...]:
    """1, the powers of two below ``default``, and ``default``."""
    out = {1, max(1, default)}
    n = 2
    while n < default:
        out.add(n)
        n *= 2
    return tuple(sorted(out))


class ThreadChooser:
    """Picks a thread count per call and learns from how long the call took."""

    def __init__(self, default: int, explore_every: int = EXPLORE_EVERY) -> None:
        self.default = max(1, default)
        self.choices = candidates(self.default)
        self.explore_every = explore_every
        self._times: dict[tuple[int, int], deque[float]] = {}
        self._calls: dict[int, int] = {}

    @staticmethod
    def group(texts: int) -> int:
        """1, 2, 3-4, 5-8, ...: calls whose times are comparable."""
        return max(1, texts - 1).bit_length()

    def _medians(self, g: int) -> dict[int, float] | None:
        """Median time per candidate count for group ``g``; None until each has a time."""
        if any(not self._times.get((g, c)) for c in self.choices):
            return None
        return {c: statistics.median(self._times[(g, c)]) for c in self.choices}

    def choose(self, texts: int) -> int:
        if texts > SMALL_CALL or len(self.choices) == 1:
            return self.default
        g = self.group(texts)
        self._calls[g] = self._calls.get(g, 0) + 1
        medians = self._medians(g)
        if medians is None:  # the first untried count
            return next(c for c in self.choices if not self._times.get((g, c)))
        best = min(medians, key=medians.__getitem__)
        others = [c for c in self.choices if c != best]
        # a try of a count that was far slower is costly: try it less often
        every = self.explore_every * (
            FAR_SLOWER_BACKOFF
            if all(medians[c] > FAR_SLOWER * medians[best] for c in others)
            else 1
        )
        if self._calls[g] % every == 0:
            return others[(self._calls[g] // every) % len(others)]
        return best

    def record(self, texts: int, threads: int, seconds: float) -> None:
        if texts > SMALL_CALL:
            return
        key = (self.group(texts), threads)
        self._times.setdefault(key, deque(maxlen=WINDOW)).append(seconds)

    def preferred(self, texts: int) -> int | None:
        """The count a call of this size gets now (None: not measured yet)."""
        medians = self._medians(self.group(texts))
        return None if medians is None else min(medians, key=medians.__getitem__)
