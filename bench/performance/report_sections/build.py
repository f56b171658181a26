"""## Build: bench/performance/perf_build.py's results."""

from __future__ import annotations


def build_section(b) -> list[str]:
    if not b:
        return ["## Build", "", "not run", ""]
    lines = [
        "## Build (`bench/performance/perf_build.py`)",
        "",
        f"{b['entries']} entries of the data set's list with their abstracts; model loaded. The",
        "raw encodes at each batch size and thread count are a scan, one pass each, to pick the",
        f"best; that best, the builds and the chunked embed were then alternated in {b['repeats']}",
        "repeats (medians).",
        "",
        "| what | seconds | texts/s |",
        "|---|---:|---:|",
    ]
    for name, s in b["raw_encode_s"].items():
        lines.append(f"| scan: raw `encode`, {name} | {s:.2f} | {b['entries'] / s:.1f} |")
    if "raw_best_s" in b:
        best = f"| the best raw `encode` ({b['best_raw']}), repeated | {b['raw_best_s']:.2f} "
        lines.append(best + f"| {b['raw_best_per_s']:.1f} |")
    for name, key in (
        ("`embed_in_chunks` as the build runs it (default threads)", "encode_in_chunks_s"),
        ("full build (`Library.build()`)", "build_full_s"),
        ("one-entry edit rebuild", "edit_rebuild_s"),
    ):
        lines.append(f"| {name} | {b[key]:.2f} | {b['entries'] / b[key]:.1f} |")
    lines += [
        "",
        f"`serve` on the built index: /health answers after {b['serve_health_s']:.1f} s and the",
        f"first /search after {b['serve_first_search_s']:.1f} s; a fresh process that only loads",
        f"the model takes {b['model_load_process_s']:.1f} s",
        f"({b['serve_health_vs_load']:.1f}x and {b['serve_first_search_vs_load']:.1f}x)."
        + (
            f" Besides the model, `serve` loads the index ({b['serve_index_load_s']:.2f} s in-process)"
            f" and fits the categorizer ({b['serve_calibration_s']:.1f} s in-process), in the"
            " background: /search does not wait for it."
            if "serve_calibration_s" in b
            else ""
        ),
        "",
        "![build](bench-build.png)",
        "",
    ]
    return lines
