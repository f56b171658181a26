"""Where the speed benchmarks write, and which code they measured.

Importing this sets the run's environment: the model offline, no tokenizer threads of its
own. Everything is written under ``$SECML_BENCH_OUT`` (default /tmp/secml-bench-perf), never
into the repository: the lists built from the data set, the indexes, the servers' caches, and
one ``<bench>.json`` of results per script, which bench/performance/perf_report.py turns into
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from bench.common.paths import ROOT

RESULTS = Path(os.environ.get("SECML_BENCH_OUT", "/tmp/secml-bench-perf"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def git_state() -> tuple[str, list[str]]:
    """The commit of the checkout, and its code files changed but not committed."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    dirty = sorted(
        line[3:]
        for line in status.stdout.splitlines()
        if line[3:].startswith(("corpus/", "index/", "service/"))
    )
    return head.stdout.strip(), dirty


def code_state() -> str:
    """The commit this process runs, and code files changed but not committed."""
    head, dirty = git_state()
    return head + (f" + uncommitted {', '.join(dirty)}" if dirty else "")


CODE_AT_START = code_state()  # the code a benchmark measures is the code when it started


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {
        **data,
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
        "load": os.getloadavg(),
        "commit": CODE_AT_START,
    }
    path.write_text(json.dumps(data, indent=1))
    print(f"wrote {path}")
    return path
