"""The page's title, what was measured on which machine, and which code."""

from __future__ import annotations

import itertools
import os
import subprocess
from importlib.metadata import PackageNotFoundError, version

from bench.common.paths import ROOT
from bench.common.results import git_state


def _v(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _tree() -> str:
    """The commit, and the code files changed but not committed (the runs measure the tree)."""
    head, dirty = git_state()
    edits = f", with uncommitted edits to {', '.join(dirty)}" if dirty else ""
    return f"the working tree at commit {head}{edits} (when this page was written)"


def _measured(done: list[dict]) -> str:
    commits = list(dict.fromkeys(r["commit"] for r in done if r.get("commit")))
    if not commits:
        return _tree()
    same = all(
        subprocess.run(
            ["git", "-C", str(ROOT), "diff", "--quiet", a, b, "--", "corpus", "index", "service"]
        ).returncode
        == 0
        for a, b in itertools.pairwise(commits)
        if "+" not in a + b
    )
    note = " (the same corpus/, index/ and service/ code)" if len(commits) > 1 and same else ""
    return "commit " + ", ".join(commits) + note + "; each script records the commit it started on"


def header(results: list[dict | None]) -> list[str]:
    done = [r for r in results if r]
    stamps = sorted(r["measured_at"] for r in done if "measured_at" in r)
    when = f"{stamps[0]} to {stamps[-1]}" if stamps else "?"
    loads = [r["load"][0] for r in done if "load" in r]
    return [
        "# Benchmarks",
        "",
        "Speed against the physical limits and against the peer a user would pick instead",
        "(txtai), as asked by issue 6, from the scripts in `bench/`: `make bench` runs them all",
        "and writes this page (`make bench-scale` the FAISS part alone, `make bench-report` this",
        "page from results already there, `make bench-quick` a smoke run on tiny sizes). Every",
        "number below comes from the scripts' JSON results; nothing is typed in by hand.",
        "",
        f"**This run:** {when}, {os.cpu_count()} cores of a shared machine",
        f"(load average {min(loads, default=0):.1f} to {max(loads, default=0):.1f} as the"
        " scripts finished), torch",
        f"{_v('torch')} (CPU), sentence-transformers {_v('sentence-transformers')}, faiss-cpu",
        f"{_v('faiss-cpu')}, txtai {_v('txtai')}. Absolute times are inflated and noisy on this",
        "machine; each comparison was measured side by side in one run, interleaved and",
        "repeated, and the ratios of medians are what to read.",
        "",
        f"Code measured: {_measured(done)}.",
        "",
    ]
