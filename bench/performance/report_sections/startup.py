"""## Start-up at 100,000 entries: perf_startup.py's results (startup.json) as docs/benchmarks.md's
section and its four rows of the ratio table (issue 17: /health, first /search, first
/categorize, RSS after 1,000 mixed requests)."""

from __future__ import annotations

from bench.common.measure import meets

_WHAT = {
    "health_s": ("/health answers, s after the start", "s"),
    "first_search_s": ("first /search answers, s after the start", "s"),
    "first_categorize_s": ("first /categorize answers, s after the start", "s"),
    "rss_after_requests_mb": ("RSS after the mixed requests, MB", "MB"),
}


def startup_rows(r: dict | None) -> list[str]:
    """One row per target: the warm starts' median against the target (as a ratio)."""
    if not r:
        return []
    n, rows = f"{r['entries']:,}", []
    for key, t in r["targets"].items():
        what, unit = _WHAT[key]
        warm, cold = t["warm"], r.get("cold", {}).get(key)
        ratio = warm / t["target"]
        mark = "met" if meets(ratio, "<= 1.0") else "**MISSED**"
        before = f"; without the caches {cold:.1f} {unit}" if cold is not None else ""
        rows.append(
            f"| start-up, {n} entries: {what.split(',')[0]} / {t['target']:g} {unit} | "
            f"{ratio:.2f}x | <= 1.0x | {mark} | {warm:.1f} {unit} (warm start, median){before} |"
        )
    return rows


def startup_section(r: dict | None) -> list[str]:
    if not r:
        return ["## Start-up at 100,000 entries", "", "Not run (perf_startup.py).", ""]
    n = f"{r['entries']:,}"
    lines = [
        f"## Start-up at {n} entries (`bench/performance/perf_startup.py`, issue 17)",
        "",
        f"`secml-papers serve` on a {n}-entry list with its index built (random unit vectors",
        "in place of the model's; the real model answers the queries), in fresh processes,",
        "alternately **cold** (the start-up cache files removed from the index generation's",
        "folder, so the process parses the list, builds the BM25 tables and fits the",
        "categorizer, as every start did before) and **warm** (the files an earlier start",
        "wrote; `secml-papers build` writes them too, so the first start after a build is a",
        "warm one; a cold start is the most a start pays, after an upgrade). Each start",
        f"timed to its first answers, then {r['runs'][0]['requests']:,}",
        "mixed requests (of ten: six searches, two related, one categorize, one check-pr)",
        "and the server's RSS. The server's own CPU seconds up to its first /search answer",
        "say how much of a start is work rather than waiting for a core on the shared machine.",
        "",
        "| start | /health s | first /search s | server CPU s to it | first /categorize s | RSS after the requests MB | statuses | load average |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in r["runs"]:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(run["mixed"]["statuses"].items()))
        lines.append(
            f"| {run['mode']} | {run['health_s']:.1f} | {run['first_search_s']:.1f} | "
            f"{run.get('cpu_s_to_first_search', float('nan')):.1f} | "
            f"{run['first_categorize_s']:.1f} | {run['rss_after_requests_mb']:.0f} | "
            f"{statuses} | {run['load'][0]:.1f} |"
        )
    lines += [
        "",
        "Where a start's time and memory go, step by step in a fresh process each (with the",
        "stand-in embedder, so without the model's load and memory):",
        "",
        "| step | cold s | warm s | cold RSS growth so far MB | warm RSS growth so far MB |",
        "|---|---:|---:|---:|---:|",
    ]
    cold, warm = r["in_process"]["cold"], r["in_process"]["warm"]
    for step in [s for s in cold if s != "process"]:
        c, w = cold[step], warm[step]
        lines.append(
            f"| {step} | {c['s']:.2f} | {w['s']:.2f} | {c['rss_growth_mb']:.0f} | "
            f"{w['rss_growth_mb']:.0f} |"
        )
    again = r.get("in_process_again")
    if again:
        lines += [
            "",
            f"(These steps measured again on {again['measured_at']}, load average "
            f"{again['load'][0]:.1f}, at {again['commit']}, with `perf_startup.py --steps-again`",
            "on the same list and index; the starts above are the first run's.)",
        ]
    if "process" in cold:
        lines += [
            "",
            f"(RSS of those processes before the steps, their imports: cold "
            f"{cold['process']['rss_growth_mb']:.0f} MB, warm {warm['process']['rss_growth_mb']:.0f} MB.)",
        ]
    lines += [
        "",
        "Before: every start parsed the Markdown list with markdown-it (most of the cold",
        "'read and parse' step, and hundreds of MB of tokens the allocator keeps), built the",
        "BM25 tables, and fitted the categorizer in the background (its leave-one-out",
        "features over a sample of the entries), and read each index file whole into memory",
        "to check it, then copied it into an array and into FAISS. After: the parse, the",
        "BM25 tables and the fitted categorizer are kept in the generation's folder",
        "(service/start_cache.py, library_cache.py), under keys that hash the list's text,",
        "the abstracts file, the generation and the code, so a changed list, index or",
        "categorizer is never answered from an old file; the index files are hashed as they",
        "stream past and memory-mapped read-only, and FAISS reads its lists in place",
        "(index/stores/store.py), so the vectors are the page cache's pages, not copies.",
        f"Machine load average during the runs: {', '.join(f'{x:.1f}' for x in r['load'])}",
        f"(1, 5, 15 min); measured {r['measured_at']} at {r['commit']}.",
        "",
    ]
    return lines
