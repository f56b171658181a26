"""The quality benchmark's lists, built from the data set (bench/data/make_lists.py writes
them; quality.py, retrieval.py and speed.py rebuild them before they measure)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.common.datasets import distinct, load_papers, markdown_list
from secml_papers.corpus.ids import normalise_title

DEFAULT_OUT = Path("/tmp/secml-bench")
DEFAULT_YEAR = 2023


def abstract_records(papers: list[dict]) -> list[dict]:
    """One cache record per paper that has an abstract."""
    records = []
    for p in papers:
        if not p.get("abstract"):
            continue
        records.append(
            {
                "title": p["title"],
                "abstract": p["abstract"],
                "source": "owasp-ml-papers",
                "doi": (p.get("doi") or "").removeprefix("https://doi.org/") or None,
                "url": p.get("pdf_url") or p.get("url"),
                "tldr": p.get("tldr"),
                "year": p.get("year"),
                "category": p["category"],
                "paper_type": p.get("paper_type"),
            }
        )
    return records


def make_lists(out: Path, year: int) -> dict[str, Path]:
    every = load_papers()
    papers = distinct(every, normalise_title)
    dropped = len(every) - len(papers)
    out.mkdir(parents=True, exist_ok=True)
    full = markdown_list(papers)
    asof = markdown_list(papers, keep=lambda p: int(p.get("year") or 0) <= year, all_of=papers)
    paths = {
        "full": out / "owasp-full.md",
        "asof": out / f"owasp-asof-{year}.md",
        "abstracts": out / "owasp-abstracts.jsonl",
    }
    paths["full"].write_text(full, encoding="utf-8")
    paths["asof"].write_text(asof, encoding="utf-8")
    lines = [json.dumps(r, ensure_ascii=False) for r in abstract_records(papers)]
    paths["abstracts"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    later = sum(int(p.get("year") or 0) > year for p in papers)
    print(
        f"{len(papers)} distinct papers ({dropped} repeated titles dropped), {later} after {year}"
    )
    for name, path in paths.items():
        print(f"{name:9} {path}")
    return paths
