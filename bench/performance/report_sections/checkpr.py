"""## check-pr and ## Memory: perf_checkpr.py's and perf_memory.py's results."""

from __future__ import annotations


def checkpr_section(c) -> list[str]:
    if not c:
        return ["## check-pr", "", "not run", ""]
    lines = [
        "## check-pr (`bench/performance/perf_checkpr.py`)",
        "",
        f"BASE {c['base_entries']} entries, HEAD {c['head_entries']} ({c['added']} added), model",
        f"loaded, {c['repeats']} repeats.",
        "",
        "| what | seconds |",
        "|---|---:|",
        f"| embed the {c['added']} added titles | {c['embed_added_s']:.2f} |",
        *(
            [
                f"| fit BASE's categorizer (once per served list; `serve` does it in the "
                f"background) | {c['fit_base_categorizer_s']:.2f} |"
            ]
            if "fit_base_categorizer_s" in c
            else []
        ),
        f"| `check_pr`, library serving BASE (vectors reused) | {c['checkpr_s']:.2f} |",
        f"| `check_pr`, library serving another list (BASE embedded again) | {c['checkpr_other_list_s']:.2f} |",
        f"| `secml-papers --list BASE check-pr BASE HEAD`, fresh process | {c['checkpr_cold_cli_s']:.2f} |",
        "",
        "Own time of one profiled `check_pr` (cProfile), the top functions:",
        "",
        "| function | share | calls |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| `{h['function']}` | {h['own_share']:.0%} | {h['calls']} |" for h in c["hot_spots"]
    ]
    return [*lines, ""]


def memory_section(m) -> list[str]:
    if not m:
        return ["## Memory", "", "not run", ""]
    bun, big = m["bundled"], m["index_part"]
    served = m.get("served_big")
    n = f"{big['entries']:,}"
    fit = ", ".join(f"{int(k):,} entries {v:.1f} s" for k, v in m["calibration_s"].items())
    rows = [
        ("`serve` on the bundled list, after start", bun["rss_after_start_mb"]),
        ("`serve` on the bundled list, after 20 searches", bun["rss_after_queries_mb"]),
    ]
    if served:
        rows += [
            (f"`serve` on {n} entries, after start", served["rss_after_start_mb"]),
            (f"`serve` on {n} entries, after 20 searches", served["rss_after_queries_mb"]),
            (
                f"`serve` on {n} entries, after the categorizer's fit",
                served["rss_after_fit_mb"],
            ),
        ]
    rows += [
        (f"in-process: RSS growth after loading the {n}-entry index", big["rss_growth_load_mb"]),
        ("... and after the first hybrid search", big["rss_growth_with_bm25_mb"]),
        ("... and after the categorizer's fit", big.get("rss_growth_with_categorizer_mb", 0)),
        (f"one copy of {n} float32 vectors of 384 dimensions", big["vectors_mb_per_copy"]),
    ]
    lines = [
        "## Memory (`bench/performance/perf_memory.py`)",
        "",
        "| what | MB |",
        "|---|---:|",
        *(f"| {name} | {mb:.0f} |" for name, mb in rows),
        "",
        f"The {n}-entry list was made from the data set's papers under numbered titles, parsed,",
        "built and stored by the real pipeline with random unit vectors in place of the model's",
        f"(embedding {n} texts with the real model is too slow here); `serve` then ran on it",
        "with the real model for the queries. The load took the parsed list and the BM25",
        "tables from the start cache the build wrote (service/start_cache.py); `serve`",
        "fitted its own categorizer (perf_startup.py times starts with and without the",
        "cache).",
    ]
    if served:
        lines += [
            f"`serve` answered /health after {served['health_s']:.1f} s and /search at",
            f"{served['search_p50_ms']:.0f} ms p50 (query encode included) while it fitted the",
            "categorizer in the background; the first /categorize answered",
            f"{served['categorizer_ready_s']:.0f} s after the start.",
        ]
    lines += [
        f"In-process at {n}: loading took {big['load_s']:.1f} s, the first search",
        f"{big['first_search_s']:.1f} s, a search without the query encode",
        f"{big['hybrid_search_p50_ms_without_encode']:.1f} ms p50 in hybrid mode and",
        f"{big['dense_search_p50_ms_without_encode']:.1f} ms in dense mode. The categorizer's fit",
        f"took {fit} (above 2,000 entries it is fitted on a sample of about 2,000, spread over",
        "the sections; index/categorize/training.py).",
        "",
    ]
    return lines
