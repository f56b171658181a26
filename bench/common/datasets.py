"""The OWASP data set (../shared/datasets/owasp-ml-papers, never committed): papers, lists.

The data set's category labels were assigned automatically and a few abstracts do not belong
to their titles: figures measured on it are realistic, not a gold standard.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from bench.common.paths import DATASET


def load_papers(directory: Path = DATASET) -> list[dict]:
    if not directory.is_dir():
        raise SystemExit(f"the data set is not at {directory}; run from a checkout beside shared/")
    papers = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text())
        for paper in data["papers"]:
            papers.append({**paper, "category": data["owasp_name"]})
    return papers


def _loose_key(title: str) -> str:
    return re.sub(r"\W+", " ", title.lower()).strip()


def distinct(papers: list[dict], key: Callable[[str], str] = _loose_key) -> list[dict]:
    """The papers with a title seen before (by ``key``) dropped: a few sit in two categories."""
    seen: set[str] = set()
    out = []
    for paper in papers:
        k = key(str(paper["title"]))
        if k and k not in seen:
            seen.add(k)
            out.append(paper)
    return out


def distinct_papers() -> list[dict]:
    return distinct(load_papers())


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


def dataset_list(
    folder: Path, held_out_every: int = 4, limit: int | None = None
) -> tuple[Path, Path, list[dict]]:
    """The data set as a list (every ``held_out_every``-th paper left out) and its abstracts.

    Returns the list file, the abstracts JSONL (DESIGN.md's cache format) and the papers left
    out, whose titles are queries that no entry of the list answers verbatim.
    """
    papers = distinct_papers()[:limit]
    listed = [p for i, p in enumerate(papers) if i % held_out_every]
    held = [p for i, p in enumerate(papers) if not i % held_out_every]
    folder.mkdir(parents=True, exist_ok=True)
    list_path, abstracts = folder / "list.md", folder / "abstracts.jsonl"
    list_path.write_text(markdown_list(listed), encoding="utf-8")
    rows = [{"title": p["title"], "abstract": p["abstract"]} for p in listed if p.get("abstract")]
    abstracts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return list_path, abstracts, held


def query_pool(held: list[dict], seed: int = 0) -> list[str]:
    """Distinct, reader-like queries: held-out titles, then the data set's one-line tldrs and
    the first ten words of abstract sentences, shuffled; no query repeats, so no cache helps."""
    pool = [str(p["title"]) for p in held]
    rest = [str(p["tldr"]) for p in distinct_papers() if p.get("tldr")]
    for p in distinct_papers():
        for sentence in re.split(r"(?<=[.!?])\s+", str(p.get("abstract") or "")):
            words = sentence.split()
            if len(words) >= 6:
                rest.append(" ".join(words[:10]).rstrip(".,;:"))
    random.Random(seed).shuffle(rest)
    seen: set[str] = set()
    return [q for q in pool + rest if not (q.lower() in seen or seen.add(q.lower()))]
