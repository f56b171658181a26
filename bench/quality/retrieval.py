"""Known-item search on the OWASP benchmark list: dense, BM25 and fusions, per model.

    .venv/bin/python bench/quality/retrieval.py [--models all-MiniLM-L6-v2,all-mpnet-base-v2]

Two query sets per entry: the title paraphrase of index/evaluation/known_item.py (what `secml-papers
eval` uses) and the data set's one-line ``tldr`` (a machine-written summary, like the note a
list carries; the tldr is not part of what is searched). Searched text: titles, or titles
with abstracts. Fusions compared: reciprocal rank fusion with k = 10, 60 and 200,
and convex mixes of min-max normalised scores (0.5 dense shipped). Also times a search per mode.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.embed_cache import embed_cached
from bench.common.lists import DEFAULT_OUT, DEFAULT_YEAR, make_lists
from secml_papers.corpus import parse_list
from secml_papers.corpus.abstracts import attach_abstracts
from secml_papers.corpus.ids import normalise_title
from secml_papers.corpus.storage import read_abstracts
from secml_papers.index.build import paper_text
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.index.evaluation.known_item import paraphrase
from secml_papers.index.lexical import LexicalIndex
from secml_papers.index.search import ranking


def rrf(dense: np.ndarray, lexical: np.ndarray, k: int) -> np.ndarray:
    """Reciprocal rank fusion; a paper without any query word gets no BM25 rank."""
    fused = np.zeros(len(dense))
    for scores, needs_match in ((dense, False), (lexical, True)):
        ranked = np.argsort(-scores, kind="stable")
        if needs_match:
            ranked = ranked[scores[ranked] > 0]
        fused[ranked] += 1.0 / (k + 1 + np.arange(len(ranked)))
    return fused


def ranks(scores_of, n: int) -> np.ndarray:
    out = []
    for i in range(n):
        s = scores_of(i)
        out.append(int(np.sum(s > s[i])) + 1 if np.isfinite(s[i]) else n)
    return np.array(out)


def figures(r: np.ndarray) -> dict:
    return {
        "mrr@10": round(float(np.mean(np.where(r <= 10, 1.0 / r, 0.0))), 4),
        "hit@10": round(float(np.mean(r <= 10)), 4),
    }


def run(model: str, out: Path, results: dict) -> None:
    paths = make_lists(out, DEFAULT_YEAR)
    full = parse_list(paths["full"].read_text())
    records, _ = read_abstracts(paths["abstracts"])
    tldr = {normalise_title(r["title"]): r.get("tldr") for r in records}
    embedder = SentenceTransformerEmbedder(model)
    for with_abstracts in (False, True):
        papers = attach_abstracts(full.papers, records) if with_abstracts else full.papers
        texts = [paper_text(p) for p in papers]
        vectors = embed_cached(embedder, texts, out / "cache")
        lexical = LexicalIndex(texts)
        everything = np.ones(len(papers), dtype=bool)
        sets = {"title paraphrase": [paraphrase(p.title) for p in papers]}
        tl = [tldr.get(normalise_title(p.title)) or paraphrase(p.title) for p in papers]
        sets["tldr"] = tl
        for qname, queries in sets.items():
            qv = embed_cached(embedder, queries, out / "cache")
            lex = lexical.score_matrix(queries)
            dense = qv @ vectors.T
            found = {
                "dense": ranks(lambda i: dense[i], len(papers)),  # noqa: B023
                "bm25": ranks(lambda i: np.where(lex[i] > 0, lex[i], -np.inf), len(papers)),  # noqa: B023
            }
            for k in (10, 60, 200):
                found[f"hybrid RRF k={k}"] = ranks(
                    lambda i: rrf(dense[i], lex[i], k),  # noqa: B023
                    len(papers),
                )
            for w in (0.3, 0.5, 0.7):
                ranking.DENSE_WEIGHT = w
                found[f"hybrid score mix {w:.1f} dense"] = ranks(
                    lambda i: ranking.fuse(dense[i], lex[i], everything),  # noqa: B023
                    len(papers),
                )
            ranking.DENSE_WEIGHT = 0.5
            key = f"{model} | {qname} | {'abstracts' if with_abstracts else 'titles'}"
            results[key] = {name: figures(r) for name, r in found.items()}
            results[key]["queries"] = len(papers)
            print(key, json.dumps(results[key]), file=sys.stderr)
        results[f"{model} | timing | {'abstracts' if with_abstracts else 'titles'}"] = timing(
            embedder, vectors, lexical
        )


def timing(embedder, vectors: np.ndarray, lexical: LexicalIndex) -> dict:
    """Milliseconds per query (embedding the query included), median of 30."""
    queries = ["certified robustness via randomized smoothing", "membership inference attack"]
    out = {}
    for mode in ("dense", "bm25", "hybrid"):
        took = []
        for n in range(30):
            q = queries[n % 2]
            started = time.perf_counter()
            vector = embedder.embed([q])[0] if mode != "bm25" else None
            ranking.rank(mode, vectors, lexical, vector, q, np.ones(len(vectors), dtype=bool))
            took.append(time.perf_counter() - started)
        out[mode] = round(1000 * float(np.median(took)), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--models", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    results: dict = {}
    for model in args.models.split(","):
        run(model.strip(), args.out, results)
    target = args.out / "retrieval.json"
    target.write_text(json.dumps(results, indent=1))
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
