"""Compare categorisation methods on the OWASP benchmark lists; write docs/quality.md's figures.

    .venv/bin/python bench/quality/quality.py [--models all-MiniLM-L6-v2,all-mpnet-base-v2]

Two splits, each with titles only and with abstracts:

* leave-one-out over the full list (each entry hidden in turn and placed by the rest; learned
  methods are refitted without the entry's fold);
* temporal: the list as of YEAR is the evidence (and what the combiner is fitted on), the
  papers of later years are the new submissions placed into the full list's sections.

The data set's labels were assigned automatically (a category and a paper type per paper) and
some abstracts belong to other papers: the figures are realistic, not a gold standard.
Results go to a JSON file (``--out``/results.json) that bench/quality/report.py turns into the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.embed_cache import embed_cached
from bench.common.lists import DEFAULT_OUT, DEFAULT_YEAR, make_lists
from bench.quality.fit_stance import lists_only
from bench.quality.methods import (
    SINGLE,
    combiner_methods,
    knn_vote,
    scaled,
    section_bm25,
    shipped_v01,
)
from secml_papers.corpus import parse_list
from secml_papers.corpus.abstracts import attach_abstracts
from secml_papers.corpus.storage import read_abstracts
from secml_papers.index.build import paper_text
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.categorizer import ABSTAIN_BELOW, Categorizer
from secml_papers.index.categorize.features import FEATURES, heading_text
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.index.evaluation.evaluate import (
    expected_calibration_error,
    outcomes,
    scores,
    threshold_table,
)


def split_methods(cat: Categorizer, full_cat: Categorizer, queries, q_vectors, q_texts) -> dict:
    """Every method's confidences for the split's queries (None: leave-one-out), and the truth.

    ``cat`` reads titles with BM25 (as shipped), ``full_cat`` titles and abstracts;
    ``q_texts`` are the queries' (titles, full texts).
    """
    temporal = queries is not None
    index = {path: j for j, path in enumerate(cat.candidates)}
    rows = cat.labelled
    train = cat.loo_features
    train_truth = cat.labels[rows]
    if temporal:
        truth = np.array([index[p.section] for p in queries])
        test = cat.features(q_vectors, q_texts[0])
        full_test = full_cat.features(q_vectors, q_texts[1])
        q_full = q_texts[1]
        sims = q_vectors @ cat.vectors.T
        hidden_rows = [None] * len(queries)
    else:
        truth, test, full_test = train_truth, train, None
        q_full = [full_cat.texts[i] for i in rows]
        sims = cat.vectors[rows] @ cat.vectors.T
        sims[np.arange(len(rows)), rows] = -np.inf
        hidden_rows = list(rows)
    sections = len(cat.candidates)
    found = {
        "kNN vote (k=5)": knn_vote(sims, cat.labels, sections, 5),
        "kNN vote (k=10)": knn_vote(sims, cat.labels, sections, 10),
    }
    for name, feature in SINGLE.items():
        col = FEATURES.index(feature)
        found[name] = scaled(train[..., col], train_truth, test[..., col])
    found["v0.1: max(kNN, heading) + 0.5 heading"] = scaled(
        shipped_v01(train), train_truth, shipped_v01(test)
    )
    headings = [heading_text(p) for p in cat.candidates]
    texts = list(full_cat.texts)
    bm_test = section_bm25(texts, cat.labels, headings, q_full, hidden_rows)
    bm_train = (
        bm_test
        if not temporal
        else section_bm25(texts, cat.labels, headings, [texts[i] for i in rows], list(rows))
    )
    norm = lambda m: m / np.maximum(m.max(axis=1, keepdims=True), 1e-9)  # noqa: E731
    found["BM25 over section text"] = scaled(norm(bm_train), train_truth, norm(bm_test))
    found |= combiner_methods(cat, test if temporal else None)
    other = "shipped, but BM25 over titles and abstracts"
    found[other] = full_cat.held_out if not temporal else full_cat.model.probabilities(full_test)
    return {"truth": truth, "methods": found}


def run(model: str, out: Path, year: int, results: dict) -> None:
    paths = make_lists(out, year)
    full = parse_list(paths["full"].read_text())
    asof = parse_list(paths["asof"].read_text())
    records, _ = read_abstracts(paths["abstracts"])
    embedder = SentenceTransformerEmbedder(model)
    for with_abstracts in (False, True):
        papers = attach_abstracts(full.papers, records) if with_abstracts else full.papers
        texts = [paper_text(p) for p in papers]
        started = time.perf_counter()
        vectors = embed_cached(embedder, texts, out / "cache")
        seconds = time.perf_counter() - started
        by_id = {p.id: i for i, p in enumerate(papers)}
        kept = [by_id[p.id] for p in asof.papers]
        later = [i for i, p in enumerate(papers) if (p.year or 0) > year]
        splits = {
            "leave-one-out": (papers, vectors, texts, None),
            f"temporal ({year} list, later papers new)": (
                [papers[i] for i in kept],
                vectors[kept],
                [texts[i] for i in kept],
                later,
            ),
        }
        for split, (ev_papers, ev_vectors, ev_texts, queries) in splits.items():
            cat = Categorizer(ev_papers, ev_vectors, full.sections, embedder)
            full_cat = Categorizer(ev_papers, ev_vectors, full.sections, embedder, texts=ev_texts)
            temporal = queries is not None
            data = split_methods(
                cat,
                full_cat,
                [papers[i] for i in queries] if temporal else None,
                vectors[queries] if temporal else None,
                (
                    ([papers[i].title for i in queries], [texts[i] for i in queries])
                    if temporal
                    else None
                ),
            )
            key = f"{model} | {split} | {'abstracts' if with_abstracts else 'titles'}"
            results[key] = summarise(cat, data)
            results[key]["embed_seconds_per_entry"] = seconds / len(texts)
            print(f"{key}: {len(data['truth'])} papers placed", file=sys.stderr)


def summarise(cat: Categorizer, data: dict) -> dict:
    truth, summary = data["truth"], {}
    for name, conf in data["methods"].items():
        found = outcomes(conf, truth, cat.candidates)
        summary[name] = scores(found, len(cat.candidates), ABSTAIN_BELOW).to_dict()
        summary[name]["thresholds"] = [r.to_dict() for r in threshold_table(found)]
        summary[name]["ece_floor"] = ece_floor(found)
    return summary


def ece_floor(found: list, runs: int = 500) -> float:
    """The ECE a perfectly calibrated model with these confidences would show, on average.

    With a hundred-odd papers and ten bins, ECE is noisy: each bin's accuracy is a proportion
    over a handful of papers. This draws 'right' with probability = confidence and measures.
    """
    rng = np.random.default_rng(0)
    conf = np.array([o.confidence for o in found])
    draws = []
    for _ in range(runs):
        right = rng.random(len(conf)) < conf
        fake = [replace(o, correct=bool(r)) for o, r in zip(found, right, strict=True)]
        draws.append(expected_calibration_error(fake))
    return round(float(np.mean(draws)), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--year", type=int, default=DEFAULT_YEAR)
    parser.add_argument("--models", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    results: dict = {}
    with stance.using(lists_only()):  # the shipped one learnt this benchmark's labels
        for model in args.models.split(","):
            run(model.strip(), args.out, args.year, results)
    target = args.out / "results.json"
    target.write_text(json.dumps(results, indent=1))
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
