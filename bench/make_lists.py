"""Build realistic benchmark lists from ../shared/datasets/owasp-ml-papers (never committed).

    .venv/bin/python bench/make_lists.py [--out /tmp/secml-bench] [--year 2023]

Writes, into ``--out`` (a scratch folder, never the repository):

* ``owasp-full.md``: every paper of the data set, one ``## Category`` per OWASP category and
  one ``### Attack Papers`` / ``### Defense Papers`` / ... per paper type (types with fewer
  than three papers in a category are left out, as a maintainer would not open a section for
  them), newest first inside a section;
* ``owasp-asof-YEAR.md``: the same headings, but only the papers of YEAR and before: the list
  as it stood then. The later papers are the *new submissions* of the temporal split; some of
  their sections are still empty in that list, as happens when a list grows;
* ``owasp-abstracts.jsonl``: the abstracts in the cache format of DESIGN.md
  (``{"title", "abstract", "source", "doi", "url", ...}``), for ``--abstracts``; it also carries
  the data set's one-line ``tldr`` (used by the benchmark as a reader's query) and the labels.

The data set's category labels were assigned automatically and a few abstracts do not belong
to their titles: figures measured on these lists are realistic, not a gold standard.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from datasets import load_papers, markdown_list

from secml_papers.corpus.ids import normalise_title

DEFAULT_OUT = Path("/tmp/secml-bench")
DEFAULT_YEAR = 2023


def distinct(papers: list[dict]) -> tuple[list[dict], int]:
    """The data set's papers with a title seen before dropped (a few sit in two categories)."""
    seen: set[str] = set()
    out = []
    for paper in papers:
        key = normalise_title(str(paper["title"]))
        if key and key not in seen:
            seen.add(key)
            out.append(paper)
    return out, len(papers) - len(out)


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
    papers, dropped = distinct(load_papers())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--year", type=int, default=DEFAULT_YEAR)
    args = parser.parse_args()
    make_lists(args.out, args.year)


if __name__ == "__main__":
    main()
