"""Embedding speed of each model on this machine: titles and titles with abstracts.

    .venv/bin/python bench/performance/speed.py [--models all-MiniLM-L6-v2,all-mpnet-base-v2]

Times the first 100 entries of the OWASP benchmark list (after one warm-up batch), in one
process per run, on whatever cores the machine gives (2 here); a query is one short text.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.lists import DEFAULT_OUT, DEFAULT_YEAR, make_lists
from secml_papers.corpus import parse_list
from secml_papers.corpus.abstracts import attach_abstracts
from secml_papers.corpus.storage import read_abstracts
from secml_papers.index.build import paper_text
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder

N = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="all-MiniLM-L6-v2,all-mpnet-base-v2")
    args = parser.parse_args()
    paths = make_lists(DEFAULT_OUT, DEFAULT_YEAR)
    full = parse_list(paths["full"].read_text())
    records, _ = read_abstracts(paths["abstracts"])
    with_abstracts = [paper_text(p) for p in attach_abstracts(full.papers, records)][:N]
    titles = [p.title for p in full.papers][:N]
    print("| model | load s | titles ms/entry | with abstracts ms/entry | query ms |")
    print("|---|---:|---:|---:|---:|")
    for name in args.models.split(","):
        started = time.perf_counter()
        embedder = SentenceTransformerEmbedder(name.strip())
        embedder.embed(titles[:8])
        load = time.perf_counter() - started
        row = [f"{load:.1f}"]
        for texts in (titles, with_abstracts):
            started = time.perf_counter()
            embedder.embed(texts)
            row.append(f"{1000 * (time.perf_counter() - started) / len(texts):.1f}")
        started = time.perf_counter()
        for _ in range(20):
            embedder.embed(["certified robustness via randomized smoothing"])
        row.append(f"{1000 * (time.perf_counter() - started) / 20:.1f}")
        print(f"| {name} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
