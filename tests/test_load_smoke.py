"""A short run of bench/performance/load.py: 10 clients for about 3 s with the fake embedder.

It checks what the full run (50 clients, 60 s, the real model) reports, without timing
thresholds: no request failed, a rebuild in another process and two reloads happened while
clients were asking, and the entries each reload brought in were found.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_load_smoke_has_no_errors_and_reloads_mid_run(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    script = "bench/performance/load.py"
    command = [sys.executable, script, "--fake", "--clients", "10", "--duration", "3"]
    result = subprocess.run(
        [*command, "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text())
    assert figures["requests"] > 0 and figures["errors"] == 0, figures["error_samples"]
    rebuild, first, second = figures["events"]
    assert rebuild["exit"] == 0
    for reload in (first, second):
        assert reload["status"] == 200 and reload["found_new_entry"]
        assert reload["asked_after"] > 0  # clients kept asking after the swap
    assert (first["added"], first["embedded"]) == (3, 0)  # the other process had built them
    assert (second["added"], second["embedded"]) == (3, 3)  # the reload built them itself
    assert rebuild["asked_during"] > 0  # requests were answered while the rebuild ran
    assert "errors 0" in result.stdout
