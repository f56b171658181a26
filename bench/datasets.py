"""Realistic Markdown lists built from ../shared/datasets/owasp-ml-papers (never committed).

The data set's category labels were assigned automatically and a few abstracts do not belong
to their titles: figures measured on it are realistic, not a gold standard.
"""

from __future__ import annotations

import json
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


def markdown_list(papers: list[dict], min_per_section: int = 3) -> str:
    """One section per category and paper type: ``## Category`` / ``### Attack Papers``."""
    groups: dict[str, dict[str, list[dict]]] = {}
    for p in papers:
        kind = f"{str(p.get('paper_type') or 'other').capitalize()} Papers"
        groups.setdefault(p["category"], {}).setdefault(kind, []).append(p)
    lines = ["# OWASP ML Security Papers", ""]
    for category in sorted(groups):
        kinds = {k: v for k, v in groups[category].items() if len(v) >= min_per_section}
        if not kinds:
            continue
        lines += [f"## {category}", ""]
        for kind in sorted(kinds):
            lines += [f"### {kind}", ""]
            for p in sorted(kinds[kind], key=lambda p: -int(p.get("year") or 0)):
                title = str(p["title"]).replace('"', "'").replace("[", "(").replace("]", ")")
                url = p.get("pdf_url") or p.get("url") or ""
                venue = str(p.get("venue") or "arXiv").replace("*", "")
                lines.append(
                    f'- A. Author et al. [**"{title}"**]({url}) @ **{venue} {p.get("year")}**.'
                )
            lines.append("")
    return "\n".join(lines)
