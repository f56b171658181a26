"""Realistic Markdown lists built from ../shared/datasets/owasp-ml-papers (never committed).

The data set's category labels were assigned automatically and a few abstracts do not belong
to their titles: figures measured on it are realistic, not a gold standard.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "owasp-ml-papers"


def load_papers(directory: Path = DATASET) -> list[dict]:
    if not directory.is_dir():
        raise SystemExit(f"the data set is not at {directory}; run from a checkout beside shared/")
    papers = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text())
        for paper in data["papers"]:
            papers.append({**paper, "category": data["owasp_name"]})
    return papers


def markdown_list(
    papers: list[dict],
    min_per_section: int = 3,
    keep: Callable[[dict], bool] | None = None,
    all_of: list[dict] | None = None,
) -> str:
    """One section per category and paper type: ``## Category`` / ``### Attack Papers``.

    The sections are those of ``all_of`` (default ``papers``) with at least ``min_per_section``
    papers; only the papers that pass ``keep`` are written, so a list "as of" an earlier date
    keeps the later sections as empty headings.
    """
    groups: dict[str, dict[str, list[dict]]] = {}
    for p in all_of if all_of is not None else papers:
        groups.setdefault(p["category"], {}).setdefault(_kind(p), []).append(p)
    lines = ["# OWASP ML Security Papers", ""]
    for category in sorted(groups):
        kinds = sorted(k for k, v in groups[category].items() if len(v) >= min_per_section)
        if not kinds:
            continue
        lines += [f"## {category}", ""]
        for kind in kinds:
            lines += [f"### {kind}", ""]
            chosen = [
                p
                for p in papers
                if p["category"] == category and _kind(p) == kind and (keep is None or keep(p))
            ]
            for p in sorted(chosen, key=lambda p: -int(p.get("year") or 0)):
                lines.append(_entry(p))
            lines.append("")
    return "\n".join(lines)


def _kind(paper: dict) -> str:
    return f"{str(paper.get('paper_type') or 'other').capitalize()} Papers"


def _entry(p: dict) -> str:
    title = str(p["title"]).replace('"', "'").replace("[", "(").replace("]", ")")
    url = p.get("pdf_url") or p.get("url") or ""
    venue = str(p.get("venue") or "arXiv").replace("*", "")
    authors = [str(a) for a in p.get("authors") or []]
    who = (authors[0].split()[-1] + (" et al." if len(authors) > 1 else "")) if authors else "Anon."
    return f'- {who} [**"{title}"**]({url}) @ **{venue} {p.get("year")}**.'
