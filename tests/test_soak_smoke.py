"""A short run of bench/performance/soak.py: a few seconds, the fake embedder, a small list.

The full run is 30 minutes of 20 clients against a 10,000-entry list with the real model.
This one checks behaviour, never timing: no request failed, both kinds of reload (after a
build in another process, and building the edit itself) served the edit while clients were
asking, and soak.json holds every figure the docs section and its plot read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_soak_smoke_has_no_errors_and_the_fields_the_report_reads(tmp_path: Path) -> None:
    command = [sys.executable, "bench/performance/soak.py", "--fake", "--entries", "200"]
    command += ["--clients", "4", "--duration", "3", "--reload-every", "1.5", "--think", "0.05"]
    env = {**os.environ, "SECML_BENCH_OUT": str(tmp_path)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    figures = json.loads((tmp_path / "soak.json").read_text())
    assert figures["request_errors"] == 0, figures["error_samples"]
    assert figures["requests"] > 0 and figures["answered"] > 0
    assert "errors: 0 (target 0) met" in result.stdout, result.stdout + result.stderr
    first, second = figures["events"]
    assert first["kind"] == "build, then reload" and first["build_exit"] == 0
    assert (first["embedded"], second["embedded"]) == (0, second["added"])  # who built what
    for reload in (first, second):
        assert reload["status"] == 200 and reload["found_new_entry"]
        assert (reload["added"], reload["removed"]) == tuple(reload["expected"].values())
    assert second["added"] == 4 and second["removed"] == 1  # 3 new, one retitled
    assert figures["reload_failures"] == 0 and figures["verdicts"]["errors_met"]
    # what report_sections/soak.py reads
    from bench.performance.report_sections.soak import soak_rows, soak_section

    assert len(figures["per_minute"]) == 30 and figures["samples"]
    assert set(figures["per_op"]) == {"search", "related", "categorize", "check-pr"}
    text = "\n".join(soak_section(figures))
    assert "## Soak" in text and str(figures["requests"]) in text.replace(",", "")
    assert len(soak_rows(figures)) == 2
