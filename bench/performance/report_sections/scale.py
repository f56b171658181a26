"""## Scale: bench/performance/scale.py's results (FAISS index types by size)."""

from __future__ import annotations


def scale_section(s) -> list[str]:
    if not s:
        return ["## Scale", "", "not run", ""]
    lines = [
        "## Scale (`bench/performance/scale.py`)",
        "",
        "Index only (no model): noisy copies of the data set's real embeddings (clustered around",
        "its 347 papers, so approximate indexes find neighbours more easily than in a corpus of",
        f"a million distinct papers), {s['meta']['queries']} single queries,",
        f"{s['meta']['search_threads']} FAISS thread per search, builds on every core. Memory:",
        "serialised size and the RSS growth while the index is built and held.",
        "",
    ]
    meta = s["meta"]
    if "measured_at" in meta:
        lines[-1:-1] = [f"Measured {meta['measured_at']}, commit {meta['commit']}."]
    else:
        lines[-1:-1] = [
            f"Not re-run in this round: these results were written {meta['written_at']} by a "
            "run of bench/performance/scale.py that did not yet record its commit (the script and the index "
            "types it builds have not changed since)."
        ]
    lines += _scale_rows(s["rows"])
    skipped = s["meta"].get("max_hnsw", 10**9)
    if any(r["n"] > skipped for r in s["rows"]):
        lines += [
            "",
            f"HNSW was not built above {skipped:,} vectors in this run (`--max-hnsw`): at 1M its",
            "build had not finished after 35 minutes under `nice` on this busy machine.",
        ]
    if "random" in s:
        lines += [
            "",
            "The hard case: uniform random unit vectors (no true near neighbours), same indexes,",
            "a lower bound on the approximate indexes' recall:",
            "",
            *_scale_rows(s["random"]["rows"]),
        ]
    lines += ["", "![scale](bench-scale.png)", ""]
    return lines


def _scale_rows(rows: list[dict]) -> list[str]:
    out = [
        "| n | index | parameter | build s | p50 ms | recall@10 | size MB | RSS growth MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['n']:,} | {r['index']} | {r['param']} | {r['build_s']:.1f} | {r['p50_ms']:.2f} "
            f"| {r['recall_at_10']:.3f} | {r['index_mb']:.0f} | {r['rss_growth_mb']:.0f} |"
        )
    return out
