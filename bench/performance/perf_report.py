"""Write docs/benchmarks.md and its plots from the perf_*.py and scale.py results.

    .venv/bin/python bench/performance/perf_report.py [--docs DIR]      (needs the `bench` extra)

Reads ``$SECML_BENCH_OUT/{build,query,threads,peer,scale,checkpr,memory,soak,startup}.json`` (a missing
one is reported as not run) and writes ``benchmarks.md`` with bench-query.png, bench-build.png,
bench-scale.png and bench-soak.png into ``--docs`` (default: the repository's docs/;
``make bench-quick`` points it at the results folder so a smoke run never touches the docs). Every number comes from the
JSON files; nothing here is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.measure import meets
from bench.common.paths import DOCS
from bench.common.results import RESULTS
from bench.performance.report_sections import sections
from bench.performance.report_sections.soak import plot_soak, soak_rows
from bench.performance.report_sections.startup import startup_rows

START = "<!-- bench/performance/perf_report.py writes from here -->"
END = "<!-- bench/performance/perf_report.py writes to here; other sections follow -->"


def merge(existing: str, generated: str) -> str:
    """Our block replaced, what other scripts and people wrote in the page kept after it."""
    if START in existing and END in existing:
        before, rest = existing.split(START, 1)
        after = rest.split(END, 1)[1]
    else:  # the first time: keep everything below the page's title
        kept = "\n".join(line for line in existing.splitlines() if not line.startswith("# "))
        before, after = "", ("\n\n" + kept.strip() + "\n") if kept.strip() else "\n"
    return f"{before}{START}\n{generated.rstrip()}\n{END}{after}"


def load(name: str, folder: Path = RESULTS) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def load_all(folder: Path = RESULTS) -> list[dict | None]:
    b, q, p, s, c, m = (
        load(n, folder) for n in ("build", "query", "peer", "scale", "checkpr", "memory")
    )
    if s and load("scale-random", folder):
        s = {**s, "random": load("scale-random", folder)}
    if s and "measured_at" not in s["meta"]:  # written before scale.py recorded it
        written = (folder / "scale.json").stat().st_mtime
        s["meta"]["written_at"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(written))
    if q and load("threads", folder):
        q = {**q, "threads": load("threads", folder)}
    return [b, q, p, s, c, m]


def with_earlier(rows: list[str], earlier: list[str]) -> list[str]:
    """The ratio table with a column for the same comparisons in an earlier run."""
    before = {r.split("|")[1].strip(): r.split("|")[2].strip() for r in earlier[2:]}
    out = [rows[0].replace("| ratio |", "| ratio | earlier run |"), "|---|---:|---:|---|---|---|"]
    for r in rows[2:]:
        cells = r.split("|")
        cells.insert(3, f" {before.get(cells[1].strip(), '–')} ")
        out.append("|".join(cells))
    return out


def row(what: str, ratio: float, target: str, context: str) -> str:
    """A table row; ``target`` "<= 1.3" or ">= 0.9", or "" where the issue sets none."""
    if not target:
        return f"| {what} | {ratio:.2f}x | none | – | {context} |"
    mark = "met" if meets(ratio, target) else "**MISSED**"
    return f"| {what} | {ratio:.2f}x | {target}x | {mark} | {context} |"


def targets(b, q, p, s, c) -> list[str]:
    out = [
        "| comparison | ratio | target | | context (absolute, this run) |",
        "|---|---:|---|---|---|",
    ]
    if b:
        out.append(
            row(
                "build throughput / raw encode (best batch, threads)",
                b["build_vs_raw"],
                ">= 0.9",
                f"{b['build_per_s']:.1f} vs {b['raw_best_per_s']:.1f} texts/s ({b['best_raw']}), {b['entries']} entries with abstracts",
            )
        )
        out.append(
            row(
                "one-entry edit rebuild / full build",
                b["edit_vs_full"],
                "<= 0.05",
                f"{b['edit_rebuild_s']:.2f} s vs {b['build_full_s']:.2f} s",
            )
        )
        out.append(
            row(
                "serve start to first /search / model load alone",
                b["serve_first_search_vs_load"],
                "",
                f"/health {b['serve_health_s']:.1f} s, first /search {b['serve_first_search_s']:.1f} s, load {b['model_load_process_s']:.1f} s (fresh processes)",
            )
        )
    if q:
        t = q["table"]
        out.append(
            row(
                "HTTP /search p50 (1 client) / in-process encode + FAISS",
                q["http_p50_vs_inprocess"],
                "<= 1.3",
                f"{t['HTTP hybrid, 1 client']['p50_ms']:.1f} ms vs {t[q['baseline']]['p50_ms']:.1f} ms ({q['baseline']})"
                + (
                    f"; load average {q['load_average']['start'][0]:.1f}"
                    if "load_average" in q
                    else ""
                ),
            )
        )
        out.append(
            row(
                "HTTP /search?mode=dense p50 / in-process",
                q["http_dense_p50_vs_inprocess"],
                "<= 1.3",
                f"{t['HTTP dense, 1 client']['p50_ms']:.1f} ms"
                + (
                    f" vs {t[q['dense_baseline']]['p50_ms']:.1f} ms (the engine on its queries)"
                    if "dense_baseline" in q
                    else ""
                ),
            )
        )
        out.append(
            row(
                "cold CLI search / model load alone",
                q["cold_cli_vs_load"],
                "<= 1.5",
                f"{q['cold_cli_search_s']:.1f} s vs {q['model_load_process_s']:.1f} s "
                "(sentence-transformers)"
                + (
                    f"; the service's engine alone: {q['engine_load_process_s']:.1f} s"
                    if "engine_load_process_s" in q
                    else ""
                ),
            )
        )
    if p and "error" not in p:
        out.append(
            row(
                "our HTTP q/s, 8 clients / txtai sequential q/s",
                p["search_vs_txtai"],
                ">= 1.5",
                f"{p['ours_http8_qps']:.1f} vs {p['txtai_sequential_qps']:.1f} q/s (dense mode: {p['ours_http8_dense_qps']:.1f})",
            )
        )
        out.append(
            row(
                "our build time / txtai's",
                p["build_vs_txtai"],
                "<= 1.0",
                f"{p['ours_build_s']:.1f} s vs {p['txtai_build_s']:.1f} s, {p['entries']} texts",
            )
        )
    elif p:
        out.append(f"| txtai peer | not run | | | {p['error']} |")
    if s:
        best = best_at(s["rows"], max(r["n"] for r in s["rows"]))
        if best:
            out.append(
                row(
                    f"index p50 at {best['n']:,} ({best['index']} {best['param']}) / 20 ms",
                    best["p50_ms"] / 20,
                    "<= 1.0",
                    f"{best['p50_ms']:.2f} ms, recall@10 {best['recall_at_10']:.3f} (target >= 0.95)",
                )
            )
    if c:
        out.append(
            row(
                f"check-pr ({c['head_entries']} entries, {c['added']} added) / embedding the {c['added']}",
                c["checkpr_vs_embed"],
                "",
                f"{c['checkpr_s']:.2f} s vs {c['embed_added_s']:.2f} s",
            )
        )
    return out


def best_at(rows: list[dict], n: int) -> dict | None:
    """The fastest configuration at size n that reaches recall@10 >= 0.95."""
    ok = [r for r in rows if r["n"] == n and r["recall_at_10"] >= 0.95]
    return min(ok, key=lambda r: r["p50_ms"]) if ok else None


def plot_query(q: dict, out: Path) -> None:
    names = list(q["table"])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ys = range(len(names))
    ax.barh(ys, [q["table"][n]["p95_ms"] for n in names], color="#cfd8e3", label="p95")
    ax.barh(ys, [q["table"][n]["p50_ms"] for n in names], color="#3b6ea5", label="p50")
    ax.set_yticks(list(ys), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds per query (log)")
    ax.set_title(f"/search latency, {q['entries']} entries (medians of {q['repeats']} repeats)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_build(b: dict, out: Path) -> None:
    labels = [*b["raw_encode_s"], "build's chunks", "full build"]
    seconds = [*b["raw_encode_s"].values(), b["encode_in_chunks_s"], b["build_full_s"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    colors = ["#3b6ea5"] * len(b["raw_encode_s"]) + ["#e3a33b", "#c0392b"]
    ax.barh(range(len(labels)), [b["entries"] / s for s in seconds], color=colors)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("texts per second (title + abstract)")
    ax.set_title(f"Embedding throughput: raw encode vs build, {b['entries']} entries")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_scale(s: dict, out: Path) -> None:
    sizes = sorted({r["n"] for r in s["rows"]})
    fig, axes = plt.subplots(1, len(sizes), figsize=(4 * len(sizes), 3.6), squeeze=False)
    for ax, n in zip(axes[0], sizes, strict=True):
        for kind, marker in (("flat", "s"), ("hnsw-32", "o"), ("ivf", "^")):
            pts = [r for r in s["rows"] if r["n"] == n and r["index"] == kind]
            ax.plot(
                [r["p50_ms"] for r in pts],
                [r["recall_at_10"] for r in pts],
                marker=marker,
                label=kind,
            )
        ax.axvline(20, color="grey", ls=":", lw=1)
        ax.axhline(0.95, color="grey", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_title(f"{n:,} vectors")
        ax.set_xlabel("search p50, ms (1 thread)")
    axes[0][0].set_ylabel("recall@10 vs exact")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--earlier", type=Path, help="results of an earlier run, for a column")
    args = parser.parse_args()
    b, q, p, s, c, m = load_all()
    args.docs.mkdir(parents=True, exist_ok=True)
    k = load("soak")
    plots = {"query": (q, plot_query), "build": (b, plot_build), "scale": (s, plot_scale)}
    plots["soak"] = (k, plot_soak)
    for name, (data, draw) in plots.items():
        if data:
            draw(data, args.docs / f"bench-{name}.png")
    up = load("startup")
    table = targets(b, q, p, s, c) + soak_rows(k) + startup_rows(up)
    earlier = load_all(args.earlier) if args.earlier else None
    if earlier:
        before = targets(*earlier[:5]) + soak_rows(load("soak", args.earlier))
        before += startup_rows(load("startup", args.earlier))
        table = with_earlier(table, before)
    text = "\n".join(sections(table, b, q, p, s, c, m, earlier, soak=k, startup=up))
    page = args.docs / "benchmarks.md"
    page.write_text(merge(page.read_text() if page.exists() else "", text))
    print(text)
    print(f"wrote {args.docs / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
