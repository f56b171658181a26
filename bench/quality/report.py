"""Turn bench/quality/quality.py's and bench/quality/retrieval.py's results into docs/quality.md's tables and plot.

    .venv/bin/python bench/quality/report.py [--out /tmp/secml-bench]   (needs the `bench` extra)

Prints Markdown tables (pasted into docs/quality.md) and writes docs/reliability.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.lists import DEFAULT_OUT
from bench.common.paths import DOCS

SHIPPED = "shipped: all + new-section rows, calibrated"
BASELINE = "kNN vote (k=5)"


def f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def categorisation_table(results: dict, model: str) -> str:
    keys = [k for k in results if k.startswith(model + " |")]
    methods = [m for m, v in results[keys[0]].items() if isinstance(v, dict)]
    heads = [
        k.split(" | ", 1)[1]
        .replace("temporal (2023 list, later papers new)", "temporal")
        .replace(" | ", ", ")
        for k in keys
    ]
    lines = [
        "| method | " + " | ".join(heads) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for m in methods:
        cells = []
        for k in keys:
            s = results[k][m]
            cells.append(f"{f(s['top1'])} / {f(s['top3'])} / {f(s['ece'])}")
        name = f"**{m}**" if m == SHIPPED else m
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shipped_table(results: dict) -> str:
    cols = (
        "top1",
        "top3",
        "top_level_top1",
        "top_level_top3",
        "abstention",
        "precision_answered",
        "ece",
    )
    lines = [
        "| model, split, text | entries | leaf top-1 | leaf top-3 | top-level top-1 | top-level top-3 | abstains (< 0.7) | precision answered | ECE | ECE floor | kNN vote top-1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, methods in results.items():
        s = methods[SHIPPED]
        cells = " | ".join(f(s[c]) for c in (*cols, "ece_floor"))
        label = key.replace(" | ", ", ")
        lines.append(f"| {label} | {s['entries']} | {cells} | {f(methods[BASELINE]['top1'])} |")
    return "\n".join(lines)


def threshold_table(results: dict, key: str) -> str:
    lines = ["| threshold | answered | precision | wrong top-1 |", "|---:|---:|---:|---:|"]
    for row in results[key][SHIPPED]["thresholds"]:
        lines.append(
            f"| {row['threshold']} | {f(row['answered'])} | {f(row['precision'])} | {row['wrong_moves']} |"
        )
    return "\n".join(lines)


def retrieval_table(retrieval: dict) -> str:
    keys = [k for k in retrieval if "| timing |" not in k]
    modes = [m for m in retrieval[keys[0]] if m != "queries"]
    lines = ["| query set | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
    for k in keys:
        cells = [
            f"{retrieval[k][m]['mrr@10']:.3f} / {retrieval[k][m]['hit@10']:.3f}" for m in modes
        ]
        label = k.replace(" | ", ", ")
        lines.append(f"| {label} ({retrieval[k]['queries']}) | " + " | ".join(cells) + " |")
    timing = [k for k in retrieval if "| timing |" in k]
    lines += ["", "| model, text | ms per query: dense | bm25 | hybrid |", "|---|---:|---:|---:|"]
    for k in timing:
        t = retrieval[k]
        lines.append(
            f"| {k.replace(' | timing', '')} | {t['dense']} | {t['bm25']} | {t['hybrid']} |"
        )
    return "\n".join(lines)


def plot(results: dict, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in results if k.startswith("all-MiniLM-L6-v2") and "abstracts" in k]
    fig, axes = plt.subplots(1, len(keys), figsize=(5.2 * len(keys), 4.6), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for method, style in (
            (SHIPPED, "o-"),
            (BASELINE, "s--"),
            ("v0.1: max(kNN, heading) + 0.5 heading", "^:"),
        ):
            bins = [b for b in results[key][method]["reliability"] if b["count"]]
            ax.plot(
                [b["confidence"] for b in bins],
                [b["accuracy"] for b in bins],
                style,
                label=f"{method.split(':')[0]} (ECE {results[key][method]['ece']:.3f})",
            )
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        ax.axvline(0.7, color="red", lw=0.8, ls="--")
        ax.set_title(
            key.split(" | ", 1)[1].replace("(2023 list, later papers new)", "(2023 -> 2024-25)"),
            fontsize=9,
        )
        ax.set_xlabel("top-1 confidence (bin mean)")
        ax.set_ylabel("accuracy in bin")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(
        "Reliability on the OWASP benchmark (noisy automatic labels), MiniLM, with abstracts",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(target, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    results = json.loads((args.out / "results.json").read_text())
    retrieval = json.loads((args.out / "retrieval.json").read_text())
    models = sorted({k.split(" | ")[0] for k in results})
    for model in models:
        print(f"\n### {model}: leaf top-1 / top-3 / ECE\n")
        print(categorisation_table(results, model))
    print("\n### shipped method\n")
    print(shipped_table(results))
    key = next(
        k
        for k in results
        if k.startswith("all-MiniLM-L6-v2 | temporal") and k.endswith("abstracts")
    )
    print("\n### abstain threshold, " + key + "\n")
    print(threshold_table(results, key))
    print("\n### known-item search: MRR@10 / hit@10\n")
    print(retrieval_table(retrieval))
    DOCS.mkdir(exist_ok=True)
    plot(results, DOCS / "reliability.png")
    print(f"\nwrote {DOCS / 'reliability.png'}")


if __name__ == "__main__":
    main()
