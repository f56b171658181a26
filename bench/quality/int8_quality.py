"""The quality half of bench/quality/int8_compare.py: what `secml-papers eval` measures
(known-item MRR, leave-one-out placement) on the OWASP benchmark list, new papers placed in
the bundled list's empty sections, and check-pr's replay over the real list histories, each
run once per engine on the same data in one process.

Not a script: ``int8_compare.py`` calls ``eval_figures``, ``empty_section_figures`` and
``replay_figures``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common.paths import ROOT
from bench.quality.fit_stance import HISTORIES, PATHS, all_examples, clone_all, without
from secml_papers.index.categorize import stance
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.evaluation.replay_stats import figures
from secml_papers.service.evaluation import evaluate_list
from secml_papers.service.library import Library
from secml_papers.service.replay import run_replay
from secml_papers.service.settings import Settings


def eval_figures(
    engines: dict[str, Embedder], lists: dict[str, Path], work: Path, variants: tuple[str, ...]
) -> tuple[dict, dict]:
    """Per variant ("titles", "abstracts") and engine: `eval`'s figures on the OWASP list
    (a fresh index in ``work``); and the cosines between the engines' entry vectors."""
    out: dict = {}
    cosines: dict = {}
    for variant in variants:
        out[variant] = {}
        vectors = {}
        for name, embedder in engines.items():
            settings = Settings(
                list_source=str(lists["full"]),
                abstracts=lists["abstracts"] if variant == "abstracts" else None,
                data_dir=work / "no-abstracts",  # titles only: no per-list abstracts file
                index_dir=work / f"index-{name}-{variant}",
                offline=True,
            )
            library = Library(settings, embedder)
            started = time.perf_counter()
            report = evaluate_list(library)
            cat, modes = report["categorisation"], report["retrieval"]["modes"]
            out[variant][name] = {
                "entries": cat["entries"],
                "sections": cat["sections"],
                "loo_top1": cat["top1"],
                "loo_top3": cat["top3"],
                "loo_ece": cat["ece"],
                "loo_abstains": cat["abstention"],
                **{f"mrr@10 {m['mode']}": m["mrr@10"] for m in modes},
                **{f"hit@10 {m['mode']}": m["hit@10"] for m in modes},
                "queries": report["retrieval"]["queries"],
                "query_source": report["retrieval"]["query_source"],
                "seconds": round(time.perf_counter() - started, 1),
            }
            vectors[name] = library.index().vectors
        cosines[f"entries ({variant})"] = agreement(*vectors.values())
    return out, cosines


# real titles of each empty section's topic, with their sources (issue 14's target: >= 90%)
EMPTY_TITLES = ROOT / "tests" / "fixtures" / "empty_sections_titles.json"


def empty_section_figures(engines: dict[str, Embedder], work: Path) -> dict:
    """The bundled list's empty sections: the share of their topics' real titles that get
    the section first (tests/test_empty_sections.py asserts >= 90% per section)."""
    titles = json.loads(EMPTY_TITLES.read_text())
    out = {}
    for name, embedder in engines.items():
        settings = Settings(index_dir=work / f"index-{name}-bundled", data_dir=work / "none")
        categorizer = Library(settings, embedder).categorizer
        per = {}
        for section, items in sorted(titles.items()):
            first = [categorizer.categorize(t["title"]).suggestions[0].section[-1] for t in items]
            per[section] = [sum(f == section for f in first), len(items)]
        hits, total = (sum(v[i] for v in per.values()) for i in (0, 1))
        out[name] = {"top1": round(hits / total, 4), "titles": total, "sections": per}
    return out


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """How close two engines' unit vectors for the same texts are."""
    cos = (a * b).sum(axis=1)
    return {
        "texts": len(cos),
        "min": round(float(cos.min()), 4),
        "p1": round(float(np.percentile(cos, 1)), 4),
        "p5": round(float(np.percentile(cos, 5)), 4),
        "mean": round(float(cos.mean()), 4),
    }


def replay_figures(
    engines: dict[str, Embedder],
    limit: int | None,
    big_limit: int,
    big: str = "ThuCCSLab+Awesome-LM-SSP",
) -> dict:
    """Every list history replayed once per engine, the same most recent steps for both
    (``limit`` per list, None: all; ``big_limit`` for ``big``), engines alternating which goes
    first;
    pooled figures over the lists organised by topic, as docs/quality.md pools them."""
    per_engine: dict[str, list] = {name: [] for name in engines}
    lists: dict = {}
    if not sorted(HISTORIES.glob("*.bundle")):
        raise SystemExit(f"no list histories in {HISTORIES}: the replay needs ../shared/datasets")
    with tempfile.TemporaryDirectory() as scratch:
        repos = clone_all(Path(scratch))
        examples = all_examples(repos)  # each list's stance model fitted without it
        for n, (name, repo) in enumerate(repos.items()):
            steps = big_limit if name == big else limit
            lists[name] = {"limit": steps}
            order = list(engines) if n % 2 == 0 else list(reversed(engines))
            for engine in order:
                with stance.using(without(examples, name)):
                    results, found, about = run_replay(
                        repo, PATHS.get(name, []), engines[engine], limit=steps, progress=False
                    )
                f = found.to_dict()
                lists[name][engine] = {
                    "steps": f["steps"],
                    "judged": f["judged"],
                    "top1": f["ours"]["top1"],
                    "top3": f["ours"]["top3"],
                    "by_year": f["by_year"],
                    "seconds": about["wall_seconds"],
                }
                if not f["by_year"]:
                    per_engine[engine].extend(results)
                print(f"  replay {name} ({steps} steps) {engine}: {lists[name][engine]}")
    pooled = {}
    for engine, results in per_engine.items():
        f = figures(results).to_dict()
        pooled[engine] = {
            "steps": f["steps"],
            "judged": f["judged"],
            "top1": f["ours"]["top1"],
            "top3": f["ours"]["top3"],
            "ece": f["ours"]["ece"],
            "ok": f["ours"]["ok"],
            "move": f["ours"]["move"],
            "seconds": round(sum(v[engine]["seconds"] for v in lists.values()), 1),
        }
    return {"lists": lists, "pooled": pooled}
