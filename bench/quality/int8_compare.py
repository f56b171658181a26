"""The int8 engine against float32, side by side in one run (issue 17): encode speed, how
close the vectors are, and every quality figure; then the issue's rule for the default.

    .venv/bin/python bench/quality/int8_compare.py [--quick] [--repeats N]
        [--replay-limit N] [--big-limit N] [--no-replay]

Both engines are ONNX Runtime sessions over the graphs the service makes in its cache (the
float graph exported from the model, its int8 dynamic quantization, which the service runs
one text at a time: index/embedding/quantized.py), made here first in a fresh cache so their
cost is measured too. Speed: one-query encodes of known-item queries
(p50 over every call) and batches of 64 titles with abstracts and of 64 titles alone (texts a
second), the engines alternating which goes first in each repeat. Quality, per engine on the same data:
`secml-papers eval`'s figures on the OWASP benchmark list (bench/data/make_lists.py),
titles alone and with abstracts: known-item MRR@10 (dense and hybrid; BM25 does not use the
model) and leave-one-out top-1 / top-3 / ECE; and check-pr's replay over the real list
histories (../shared/datasets/list-histories), the same steps for both engines (by default
those of replay_lists.py and docs/quality.md: every step, Awesome-LM-SSP's last 40;
``--replay-limit N``: each list's last N, ``--big-limit`` for Awesome-LM-SSP), pooled over the
lists organised by topic: top-1, top-3, ECE, verdicts "ok" and "move". About 25 minutes on
the shared 2 cores; ``--quick`` about 3 (3 repeats, titles only, 10 steps a list, LM-SSP 3).

The rule (issue 17): int8 becomes the default only if it is >= 1.5x faster (one-query p50 and
batch throughput, with abstracts and of titles alone, all three) and costs <= 1 point (0.01) on every quality figure above (for ECE and
"move", lower is better). Writes ``$SECML_BENCH_OUT/int8.json``; prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.lists import DEFAULT_YEAR, make_lists
from bench.common.measure import median, pct
from bench.common.results import RESULTS, save
from bench.quality.int8_quality import (
    agreement,
    empty_section_figures,
    eval_figures,
    replay_figures,
)
from bench.quality.replay_lists import LIMITS
from secml_papers.corpus import parse_list
from secml_papers.corpus.abstracts import attach_abstracts
from secml_papers.corpus.storage import read_abstracts
from secml_papers.index.build import paper_text
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder, resolve_model
from secml_papers.index.embedding.onnx_engine import exported
from secml_papers.index.embedding.quantized import quantized
from secml_papers.index.evaluation.known_item import paraphrase

SPEEDUP = 1.5  # the bar for the default
POINT = 0.01
LOWER_IS_BETTER = ("ece", "move")


def make_graphs(cache: Path) -> dict:
    """Both graphs made in a fresh cache, timed: the export, then the quantization."""
    shutil.rmtree(cache, ignore_errors=True)
    model = resolve_model("all-MiniLM-L6-v2")
    started = time.perf_counter()
    graph = exported(model, cache)
    export_s = time.perf_counter() - started
    started = time.perf_counter()
    int8 = quantized(graph)
    return {
        "export_s": round(export_s, 1),
        "quantize_s": round(time.perf_counter() - started, 1),
        "float32_mb": round(graph.stat().st_size / 1e6, 1),
        "int8_mb": round(int8.stat().st_size / 1e6, 1),
    }


def speed(
    engines: dict, queries: list[str], batch: list[str], titles: list[str], repeats: int, calls: int
) -> dict:
    """One-query encodes, batches of titles with abstracts and of titles alone, the engines
    alternating which goes first."""
    one = {name: [] for name in engines}
    per_s = {name: [] for name in engines}
    titles_per_s = {name: [] for name in engines}
    for e in engines.values():
        e.embed(queries[:3] + batch[:8])  # sessions made and run before any timing
    for rep in range(repeats):
        order = list(engines) if rep % 2 == 0 else list(reversed(engines))
        for name in order:
            for q in queries[rep * calls : (rep + 1) * calls]:
                started = time.perf_counter()
                engines[name].embed([q])
                one[name].append(time.perf_counter() - started)
            for texts, rates in ((batch, per_s), (titles, titles_per_s)):
                started = time.perf_counter()
                engines[name].embed(texts)
                rates[name].append(len(texts) / (time.perf_counter() - started))
    out = {
        name: {
            "one_query_p50_ms": round(1000 * median(one[name]), 2),
            "one_query_p95_ms": round(1000 * pct(one[name], 95), 2),
            "batch_texts_per_s": round(median(per_s[name]), 1),
            "batch_titles_per_s": round(median(titles_per_s[name]), 1),
            "calls": len(one[name]),
            "batches": len(per_s[name]),
        }
        for name in engines
    }
    f, i = out["float32"], out["int8"]
    out["one_query_speedup"] = round(f["one_query_p50_ms"] / i["one_query_p50_ms"], 2)
    out["batch_speedup"] = round(i["batch_texts_per_s"] / f["batch_texts_per_s"], 2)
    out["batch_titles_speedup"] = round(i["batch_titles_per_s"] / f["batch_titles_per_s"], 2)
    out["batch_size"] = len(batch)
    return out


def quality_rows(report: dict) -> list[dict]:
    """Every judged figure: float32, int8, the change and whether it is within a point."""
    rows = []
    for variant, by_engine in report["eval"].items():
        for key in ("mrr@10 dense", "mrr@10 hybrid", "loo_top1", "loo_top3", "loo_ece"):
            rows.append(_row(f"{key} ({variant})", by_engine, key))
    if report.get("empty"):
        rows.append(_row("empty top1 (bundled list)", report["empty"], "top1"))
    if report.get("replay"):
        pooled = report["replay"]["pooled"]
        for key in ("top1", "top3", "ece", "ok", "move"):
            rows.append(_row(f"replay {key} (pooled)", pooled, key))
    return rows


def _row(label: str, by_engine: dict, key: str) -> dict:
    f, i = by_engine["float32"][key], by_engine["int8"][key]
    cost = (i - f) if key.endswith(LOWER_IS_BETTER) else (f - i)
    return {
        "figure": label,
        "float32": f,
        "int8": i,
        "cost_points": round(100 * cost, 2),
        "within": cost <= POINT + 1e-9,
    }


def decide(report: dict) -> dict:
    s = report["speed"]
    ratios = ("one_query_speedup", "batch_speedup", "batch_titles_speedup")
    fast = all(s[k] >= SPEEDUP for k in ratios if k in s)
    worst = max(report["quality"], key=lambda r: r["cost_points"])
    kept = all(r["within"] for r in report["quality"])
    default = "onnx-int8" if fast and kept else "onnx"
    return {"faster_enough": fast, "quality_kept": kept, "worst": worst, "default": default}


def print_table(report: dict) -> None:
    s, g = report["speed"], report["graphs"]
    print(f"\nload average {report['load_before']} before, {os.getloadavg()} after")
    print(
        f"graphs: float32 {g['float32_mb']} MB (export {g['export_s']} s), "
        f"int8 {g['int8_mb']} MB (quantize {g['quantize_s']} s)"
    )
    print(f"{'speed':42} {'float32':>10} {'int8':>10} {'ratio':>7}")
    for key, ratio in (
        ("one_query_p50_ms", "one_query_speedup"),
        ("batch_texts_per_s", "batch_speedup"),
        ("batch_titles_per_s", "batch_titles_speedup"),
    ):
        if ratio in s:  # a run before titles alone were timed has no such row
            print(f"{key:42} {s['float32'][key]:>10} {s['int8'][key]:>10} {s[ratio]:>6}x")
    for name, c in report["cosine"].items():
        print(f"cosine int8 vs float32, {name}: min {c['min']} p1 {c['p1']} mean {c['mean']}")
    print(f"{'quality figure':42} {'float32':>10} {'int8':>10} {'cost pts':>9}")
    for r in report["quality"]:
        mark = "" if r["within"] else "  > 1 point"
        print(f"{r['figure']:42} {r['float32']:>10} {r['int8']:>10} {r['cost_points']:>9}{mark}")
    d = report["decision"]
    print(
        f"faster by >= {SPEEDUP}x: {d['faster_enough']}; every figure within a point: "
        f"{d['quality_kept']} (worst: {d['worst']['figure']}, {d['worst']['cost_points']}); "
        f"default: {d['default']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, titles, 10 steps")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--replay-limit", type=int, help="steps per list (default: all)")
    parser.add_argument("--big-limit", type=int, help="steps of Awesome-LM-SSP (default 40)")
    parser.add_argument("--no-replay", action="store_true")
    parser.add_argument(
        "--add-empty",
        action="store_true",
        help="only measure the empty sections and add them to an existing int8.json",
    )
    args = parser.parse_args()
    if args.add_empty:
        return add_empty()
    repeats = args.repeats or (3 if args.quick else 10)
    limit = args.replay_limit or (10 if args.quick else None)
    big = args.big_limit or (3 if args.quick else LIMITS["ThuCCSLab+Awesome-LM-SSP"])
    report: dict = {"load_before": os.getloadavg(), "started": time.ctime()}
    work = RESULTS / "int8-compare"
    report["graphs"] = make_graphs(work / "cache")
    engines = {
        "float32": SentenceTransformerEmbedder(engine="onnx", cache_dir=work / "cache"),
        "int8": SentenceTransformerEmbedder(engine="onnx-int8", cache_dir=work / "cache"),
    }
    assert engines["int8"].running == "onnx-int8" and engines["float32"].running == "onnx"
    lists = make_lists(work / "lists", DEFAULT_YEAR)
    full = parse_list(lists["full"].read_text())
    records, _ = read_abstracts(lists["abstracts"])
    texts = [paper_text(p) for p in attach_abstracts(full.papers, records)]
    queries = [paraphrase(p.title) for p in full.papers]
    calls = min(30, len(queries) // repeats)
    titles = [p.title for p in full.papers][:64]
    report["speed"] = speed(engines, queries, texts[:64], titles, repeats, calls)
    report["speed"]["repeats"] = repeats
    print("speed", report["speed"], flush=True)
    q = {name: e.embed(queries) for name, e in engines.items()}
    variants = ("titles",) if args.quick else ("titles", "abstracts")
    report["eval"], report["cosine"] = eval_figures(engines, lists, work, variants)
    report["cosine"]["known-item queries"] = agreement(q["float32"], q["int8"])
    print("eval", report["eval"], flush=True)
    report["empty"] = empty_section_figures(engines, work)
    print("empty sections", report["empty"], flush=True)
    if not args.no_replay:
        report["replay"] = replay_figures(engines, limit, big)
        report["replay"]["limit"], report["replay"]["big_limit"] = limit, big
    report["quality"] = quality_rows(report)
    report["decision"] = decide(report)
    report["quick"] = args.quick
    print_table(report)
    save("int8", report)  # make bench-quick gives --quick another SECML_BENCH_OUT
    return 0


def add_empty() -> int:
    """The empty sections' figure measured now and added to the results of a run made
    before the script measured it; the quality rows and the decision computed again."""
    path = RESULTS / "int8.json"
    report = json.loads(path.read_text())
    work = RESULTS / "int8-compare"
    engines = {
        "float32": SentenceTransformerEmbedder(engine="onnx", cache_dir=work / "cache"),
        "int8": SentenceTransformerEmbedder(engine="onnx-int8", cache_dir=work / "cache"),
    }
    report["empty"] = empty_section_figures(engines, work)
    report["main_run"] = {k: report.pop(k) for k in ("measured_at", "load", "commit")}
    report["quality"] = quality_rows(report)
    report["decision"] = decide(report)
    print_table(report)
    save("int8", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
