"""Placement of new papers read by title or with their abstract, on entries read either way:
what ``check-pr --fetch-abstracts`` and an enriched list (``enrich``) each buy.

    .venv/bin/python bench/quality/abstract_reading.py

The OWASP benchmark's temporal split (bench/quality/quality.py): the list as of 2023 is the
evidence the categoriser is fitted on, the papers of later years are the pull request's
additions, placed into the full list's sections. Four rows: entries by title or with their
abstracts, times the new paper by title or with its abstract. The words (BM25, the word
probe, the stance) read titles in every row, as check-pr's do; the stance is the one fitted on
the real lists alone (the shipped one has learnt these titles' paper types).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.embed_cache import embed_cached
from bench.common.lists import DEFAULT_OUT, DEFAULT_YEAR, make_lists
from bench.quality.fit_stance import lists_only
from secml_papers.corpus import parse_list
from secml_papers.corpus.abstracts import attach_abstracts
from secml_papers.corpus.storage import read_abstracts
from secml_papers.index.build import paper_text
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.embedding.embedder import DEFAULT_MODEL, SentenceTransformerEmbedder


def main() -> None:
    paths = make_lists(DEFAULT_OUT, DEFAULT_YEAR)
    full = parse_list(paths["full"].read_text())
    asof = parse_list(paths["asof"].read_text())
    records, _ = read_abstracts(paths["abstracts"])
    embedder = SentenceTransformerEmbedder(DEFAULT_MODEL)
    read = {
        "title": full.papers,
        "title and abstract": attach_abstracts(full.papers, records),
    }
    cache = DEFAULT_OUT / "cache"
    vectors = {
        k: embed_cached(embedder, [paper_text(p) for p in v], cache) for k, v in read.items()
    }
    by_id = {p.id: i for i, p in enumerate(full.papers)}
    kept = [by_id[p.id] for p in asof.papers]
    new = [i for i, p in enumerate(full.papers) if (p.year or 0) > DEFAULT_YEAR]
    with_abstract = sum(bool(read["title and abstract"][i].abstract) for i in new)
    print(
        f"{len(new)} papers new after {DEFAULT_YEAR} ({with_abstract} with an abstract), "
        f"placed into a list of {len(kept)} entries in "
        f"{sum(s.can_hold_entries for s in full.sections)} sections"
    )
    print("| entries read by | new paper read by | top-1 | top-3 |")
    print("|---|---|---:|---:|")
    with stance.using(lists_only()):
        for entries in read:
            categorizer = Categorizer(
                [full.papers[i] for i in kept], vectors[entries][kept], full.sections, embedder
            )
            for query in read:
                first = within = 0
                for i in new:
                    paper = full.papers[i]
                    ranked = categorizer.categorize_vector(vectors[query][i], paper.title)
                    sections = [s.section for s in ranked.suggestions]
                    first += sections[0] == paper.section
                    within += paper.section in sections[:3]
                print(
                    f"| {entries} | {query} | {first / len(new):.3f} | {within / len(new):.3f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
