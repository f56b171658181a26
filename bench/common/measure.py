"""Medians, percentiles, memory, timing, hot spots, and the issue's targets.

The machines are shared and noisy: each script measures its comparisons side by side,
interleaved, repeated, and reports the ratio of medians (absolute times are context).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def pct(xs: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(xs)
    return float(ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))])


def rss_mb(pid: int | str = "self") -> float:
    """Current resident set size of a process, in MB (not the peak)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def hot_spots(fn: Callable[[], object], n: int = 6) -> list[dict]:
    """The ``n`` functions with the most own time in one profiled call of ``fn`` (cProfile
    slows Python-heavy code more than native code: read the shares, not the seconds)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(fn)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values()) or 1.0
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:n]
    return [
        {
            "function": f"{Path(file).name}:{line}({name})",
            "own_share": round(own / total, 3),
            "calls": calls,
        }
        for (file, line, name), (_, calls, own, _, _) in rows
    ]


def meets(ratio: float, target: str) -> bool:
    """``target`` is ``"<= 1.3"`` or ``">= 0.9"``."""
    op, value = target.split()
    return ratio <= float(value) if op == "<=" else ratio >= float(value)


def verdict(name: str, ratio: float, target: str) -> str:
    mark = "met" if meets(ratio, target) else "MISSED"
    return f"{name}: {ratio:.3f}x (target {target}x) {mark}"
