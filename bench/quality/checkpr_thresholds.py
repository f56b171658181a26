"""Measure the thresholds check-pr uses: when to abstain, and when titles are near-duplicates.

    .venv/bin/python bench/quality/checkpr_thresholds.py

Abstention: leave-one-out over a list's own entries (each hidden in turn, categorised by the
rest); for each threshold, the share answered and the precision of what is answered.
Near-duplicates: the cosine similarity of every data-set title to its most similar *other*
title (distinct papers), against rewrites of the same title that contributors make (case,
a dropped subtitle, an arXiv-style prefix): the threshold must sit between the two.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.datasets import load_papers, markdown_list
from bench.quality.fit_stance import lists_only
from secml_papers.corpus import parse_list
from secml_papers.corpus.storage import read_list
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.index.evaluation.evaluate import leave_one_out, threshold_table


def abstention(name: str, text: str, embedder) -> None:
    parsed = parse_list(text)
    vectors = embedder.embed([p.title for p in parsed.papers])
    categorizer = Categorizer(parsed.papers, vectors, parsed.sections, embedder)
    outcomes = leave_one_out(categorizer)
    top1 = np.mean([o.correct for o in outcomes])
    top3 = np.mean([o.in_top3 for o in outcomes])
    print(f"\n## {name}: {len(outcomes)} entries, {len(categorizer.candidates)} sections")
    print(f"leave-one-out top-1 {top1:.3f}, top-3 {top3:.3f}, T={categorizer.temperature:.3f}")
    print("threshold  answered  precision  wrong-top-1  false-move-flags")
    for row in threshold_table(outcomes):
        precision = "   -" if row.precision is None else f"{row.precision:.3f}"
        print(
            f"{row.threshold:9.2f}  {row.answered:8.3f}  {precision:>9}  {row.wrong_moves:11d}"
            f"  {row.false_flags:5d} of {len(outcomes)}"
        )


def rewrites(title: str) -> list[str]:
    out = [title.lower(), title.upper(), re.sub(r"[^\w\s]", "", title)]
    if ":" in title:
        out.append(title.split(":", 1)[1].strip())  # subtitle only
        out.append(title.split(":", 1)[0].strip() + ": " + title.split(":", 1)[1].strip().lower())
    return out


def near_duplicates(embedder) -> None:
    titles = sorted({p["title"] for p in load_papers()})
    vectors = embedder.embed(titles)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1)
    distinct = sims.max(axis=1)
    same = []
    for title, vector in zip(titles, vectors, strict=True):
        variants = rewrites(title)
        same.extend(embedder.embed(variants) @ vector)
    same = np.array(same)
    print(f"\n## near-duplicates: {len(titles)} distinct titles, {len(same)} rewrites")
    for q in (50, 90, 99, 99.5, 100):
        print(
            f"distinct papers, max similarity to another: p{q:<5} {np.percentile(distinct, q):.3f}"
        )
    for q in (0, 1, 5, 10, 50):
        print(f"rewrites of the same title, similarity:       p{q:<5} {np.percentile(same, q):.3f}")
    for t in (0.85, 0.88, 0.9, 0.92, 0.95):
        print(
            f"threshold {t:.2f}: distinct pairs flagged {np.mean(distinct >= t):.3f}, "
            f"rewrites caught {np.mean(same >= t):.3f}"
        )


def main() -> None:
    embedder = SentenceTransformerEmbedder()
    abstention("bundled Awesome SecML Papers", read_list(None).text, embedder)
    with stance.using(lists_only()):  # the shipped stance learnt these titles' paper types
        owasp = markdown_list(load_papers())
        abstention("OWASP data-set list (noisy, auto-labelled)", owasp, embedder)
    near_duplicates(embedder)


if __name__ == "__main__":
    main()
