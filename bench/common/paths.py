"""Where things are, from this file: the checkout, its docs/, the data set beside it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout (bench/common/paths.py)
DOCS = ROOT / "docs"
DATASET = ROOT.parent / "shared" / "datasets" / "owasp-ml-papers"  # never committed
