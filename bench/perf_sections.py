"""The sections of docs/benchmarks.md around the ratio table (used by bench/perf_report.py).

Every figure is read from the results; the sentences only say what the figures mean.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from perf_common import git_state


def _v(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _tree() -> str:
    """The commit, and the code files changed but not committed (the runs measure the tree)."""
    head, dirty = git_state()
    edits = f", with uncommitted edits to {', '.join(dirty)}" if dirty else ""
    return f"the working tree at commit {head}{edits} (when this page was written)"


def _measured(done: list[dict]) -> str:
    commits = list(dict.fromkeys(r["commit"] for r in done if r.get("commit")))
    if not commits:
        return _tree()
    root = str(Path(__file__).resolve().parents[1])
    same = all(
        subprocess.run(
            ["git", "-C", root, "diff", "--quiet", a, b, "--", "corpus", "index", "service"]
        ).returncode
        == 0
        for a, b in itertools.pairwise(commits)
        if "+" not in a + b
    )
    note = " (the same corpus/, index/ and service/ code)" if len(commits) > 1 and same else ""
    return "commit " + ", ".join(commits) + note + "; each script records the commit it started on"


def header(results: list[dict | None]) -> list[str]:
    done = [r for r in results if r]
    stamps = sorted(r["measured_at"] for r in done if "measured_at" in r)
    when = f"{stamps[0]} to {stamps[-1]}" if stamps else "?"
    loads = [r["load"][0] for r in done if "load" in r]
    return [
        "# Benchmarks",
        "",
        "Speed against the physical limits and against the peer a user would pick instead",
        "(txtai), as asked by issue 6, from the scripts in `bench/`: `make bench` runs them all",
        "and writes this page (`make bench-scale` the FAISS part alone, `make bench-report` this",
        "page from results already there, `make bench-quick` a smoke run on tiny sizes). Every",
        "number below comes from the scripts' JSON results; nothing is typed in by hand.",
        "",
        f"**This run:** {when}, {os.cpu_count()} cores of a shared machine",
        f"(load average {min(loads, default=0):.1f} to {max(loads, default=0):.1f} as the"
        " scripts finished), torch",
        f"{_v('torch')} (CPU), sentence-transformers {_v('sentence-transformers')}, faiss-cpu",
        f"{_v('faiss-cpu')}, txtai {_v('txtai')}. Absolute times are inflated and noisy on this",
        "machine; each comparison was measured side by side in one run, interleaved and",
        "repeated, and the ratios of medians are what to read.",
        "",
        f"Code measured: {_measured(done)}.",
        "",
    ]


def build_section(b) -> list[str]:
    if not b:
        return ["## Build", "", "not run", ""]
    lines = [
        "## Build (`bench/perf_build.py`)",
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


def query_section(q) -> list[str]:
    if not q:
        return ["## Query", "", "not run", ""]
    lines = [
        "## Query (`bench/perf_query.py`)",
        "",
        f"{q['entries']} entries (the data set's list, three papers in four, with abstracts),",
        "distinct queries (no query sent twice to a server), medians of "
        f"{q['repeats']} repeats; {q['queries_per_pass']['1']}, {q['queries_per_pass']['8']} and "
        f"{q['queries_per_pass']['32']} queries per pass for 1, 8 and 32 clients.",
        "",
        "| configuration | p50 ms | p95 ms | queries/s |",
        "|---|---:|---:|---:|",
    ]
    for name, m in q["table"].items():
        qps = f"{m['qps']:.1f}" if "qps" in m else "–"
        lines.append(f"| {name} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {qps} |")
    pr, http = q["profile_ms"], q["table"]["HTTP hybrid, 1 client"]["p50_ms"]
    base = q["table"][q["baseline"]]["p50_ms"]
    framework = pr["asgi_stub"] - pr["stub_search"]
    parts = [
        (f"encode + FAISS in-process: the baseline ({q['baseline']})", base),
        ("the rest of the search: filters, BM25, fusion, hits (stub embedder)", pr["stub_search"]),
        (
            "FastAPI, middleware, pydantic, JSON, the hand-off to the model's thread, in-process "
            "client (app through ASGI with the stub, minus its search)",
            framework,
        ),
        (
            "what is left: uvicorn, the socket, the client, the server's model thread against "
            "the baseline's",
            http - base - pr["stub_search"] - framework,
        ),
    ]
    lines += [
        f"\nCold CLI `search` (fresh process, index built): {q['cold_cli_search_s']:.1f} s; a fresh",
        f"process that only loads the model with sentence-transformers: {q['model_load_process_s']:.1f} s"
        + (
            f"; one that loads the service's engine (ONNX Runtime) and encodes a query: "
            f"{q['engine_load_process_s']:.1f} s"
            if "engine_load_process_s" in q
            else ""
        )
        + ". Server RSS after",
        "the runs: "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in q["server_rss_after_mb"].items())
        + ".",
        "",
        "### Where a /search request's time goes",
        "",
        "The one-client HTTP p50 split into parts that add up to it. The model's parts come from",
        "the in-process runs measured side by side with the HTTP runs; the parts without the model are timed",
        "with a stub embedder (random vectors), where nothing else is noisy; the last row is",
        "what is left. Alone, in this process (noisier, another moment): encode",
        f"{pr['encode']:.1f} ms, FAISS {pr['faiss']:.2f} ms, `json.dumps` of a response",
        f"{pr['json']:.2f} ms, the whole app with the real model through ASGI {pr['asgi']:.1f} ms.",
        "",
        "| part | ms | share of HTTP p50 |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {ms:.2f} | {ms / http:.0%} |" for name, ms in parts]
    if q.get("thread_teams_ms"):
        lines += [
            "",
            "One-query encodes in a fresh process, one thread after another (p50 ms):",
            "",
        ]
        lines += ["| where the encode runs | p50 ms |", "|---|---:|"]
        lines += [f"| {k} | {v:.1f} |" for k, v in q["thread_teams_ms"].items()]
    th = q.get("threads")
    if th:
        lines += [
            "",
            "### torch's threads for one-query encodes (`bench/perf_threads.py`)",
            "",
            f"A fresh process per run, {th['queries_per_run']} one-query encodes each, "
            f'{th["repeats"]} repeats; "one core busy": another process spins on one core '
            'meanwhile. "chosen": the count PyTorch\'s calls get from index/embedding/threads.py; the '
            "service runs ONNX Runtime's lone calls with the default count.",
            "",
            "| thread count, machine | p50 ms | p95 ms |",
            "|---|---:|---:|",
            *(f"| {k} | {v['p50_ms']:.1f} | {v['p95_ms']:.1f} |" for k, v in th["table"].items()),
        ]
    lines += ["", "![query](bench-query.png)", ""]
    return lines


def peer_section(p) -> list[str]:
    if not p:
        return ["## Peer: txtai", "", "not run", ""]
    if "error" in p:
        return ["## Peer: txtai", "", f"Not measured: {p['error']}", ""]
    return [
        "## Peer: txtai (`bench/perf_peer.py`)",
        "",
        f'txtai {p["txtai"]} `Embeddings(path=<the package\'s model folder>, backend="faiss",',
        f"content=False)` ({p['txtai_vectors']}), offline, on the same {p['entries']} texts and the",
        f"same {p['queries_per_pass']} queries per repeat, {p['repeats']} repeats, model loaded in both.",
        "Our build time includes reading and parsing the list and writing the index to disk",
        "(fsync); txtai's `index()` keeps its index in memory. txtai searches in-process",
        "without HTTP; ours go through HTTP with 8 concurrent clients.",
        "",
        "| | ours | txtai | ratio |",
        "|---|---:|---:|---:|",
        f"| build, s | {p['ours_build_s']:.2f} | {p['txtai_build_s']:.2f} | {p['build_vs_txtai']:.2f}x |",
        f"| search q/s (ours: HTTP, 8 clients, hybrid; txtai: in-process, sequential) | {p['ours_http8_qps']:.1f} | {p['txtai_sequential_qps']:.1f} | {p['search_vs_txtai']:.2f}x |",
        f"| search q/s, ours in `mode=dense` | {p['ours_http8_dense_qps']:.1f} | {p['txtai_sequential_qps']:.1f} | {p['search_dense_vs_txtai']:.2f}x |",
        *(
            [
                f"| the model alone, in-process, calls of 8 of the same queries (the ceiling for 8 clients) | {p['model_batched_qps']:.1f} | {p['txtai_sequential_qps']:.1f} | {p['model_batched_vs_txtai']:.2f}x |"
            ]
            if "model_batched_qps" in p
            else []
        ),
        "",
    ]


def scale_section(s) -> list[str]:
    if not s:
        return ["## Scale", "", "not run", ""]
    lines = [
        "## Scale (`bench/scale.py`)",
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
            "run of bench/scale.py that did not yet record its commit (the script and the index "
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


def checkpr_section(c) -> list[str]:
    if not c:
        return ["## check-pr", "", "not run", ""]
    lines = [
        "## check-pr (`bench/perf_checkpr.py`)",
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
        ("... and after the first hybrid search (BM25 tables)", big["rss_growth_with_bm25_mb"]),
        ("... and after the categorizer's fit", big.get("rss_growth_with_categorizer_mb", 0)),
        (f"one copy of {n} float32 vectors of 384 dimensions", big["vectors_mb_per_copy"]),
    ]
    lines = [
        "## Memory (`bench/perf_memory.py`)",
        "",
        "| what | MB |",
        "|---|---:|",
        *(f"| {name} | {mb:.0f} |" for name, mb in rows),
        "",
        f"The {n}-entry list was made from the data set's papers under numbered titles, parsed,",
        "built and stored by the real pipeline with random unit vectors in place of the model's",
        f"(embedding {n} texts with the real model is too slow here); `serve` then ran on it",
        "with the real model for the queries.",
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


def _small_parts(pr: dict) -> str:
    return (
        f"The rest, at this list's size: FAISS {pr['faiss']:.2f} ms, the search beyond the "
        f"encode (filters, BM25, fusion) {pr['stub_search']:.2f} ms, the framework "
        f"{pr['asgi_stub'] - pr['stub_search']:.1f} ms."
    )


def _against_torch(t: dict, one: dict) -> str:
    """The same p50 against raw sentence-transformers (PyTorch) in-process."""
    torch_rows = [v["p50_ms"] for k, v in t.items() if k.startswith("in-process, main thread")]
    if not torch_rows:
        return ""
    best = min(torch_rows)
    return (
        f" Against raw `SentenceTransformer.encode` + FAISS in-process (PyTorch, the better of "
        f"its thread counts, {best:.1f} ms) the HTTP p50 is {one['p50_ms'] / best:.2f}x."
    )


THREAD_LABELS = (
    ("default", "with the default threads"),
    ("one", "with one thread"),
    ("chosen", "with the service's choice"),
)


def _query_diagnosis(q, p) -> list[str]:
    t = q["table"]
    one, eight = t["HTTP hybrid, 1 client"], t["HTTP hybrid, 8 clients"]
    thirty_two = t["HTTP hybrid, 32 clients"]
    pr, base = q["profile_ms"], t[q["baseline"]]["p50_ms"]
    framework = pr["asgi_stub"] - pr["stub_search"]
    left = one["p50_ms"] - base - pr["stub_search"] - framework
    ratio = one["p50_ms"] / base
    lines = [
        f"1. **/search p50 is {ratio:.2f}x the in-process encode + FAISS** (target 1.3x, "
        f"{'met' if ratio <= 1.3 else 'missed'}). Of the {one['p50_ms'] - base:.1f} ms a "
        f"one-client request adds to the baseline ({q['baseline']}, {base:.1f} ms): "
        f"{pr['stub_search']:.1f} ms the rest of the search (BM25, fusion, hits), "
        f"{framework:.1f} ms FastAPI with its middleware, pydantic and the hand-off to the "
        f"model's thread, and {left:.1f} ms uvicorn, the socket, the client and whatever the "
        "server's model thread loses against the baseline's process. Since the earlier run the "
        "model runs on ONNX Runtime (index/embedding/onnx_engine.py; the same vectors), on the server's "
        "own model workers (index/embedding/batching.py), /search awaits them from the event loop "
        "instead of blocking a threadpool thread (service/querying.py), and the benchmark's "
        "client is a lean keep-alive one (with httpx as the client the same p50 is "
        f"{t.get('HTTP hybrid, 1 client, httpx', one)['p50_ms']:.1f} ms)." + _against_torch(t, one),
    ]
    text = (
        f"2. **Concurrency.** With 8 clients the server answers {eight['qps']:.1f} q/s against "
        f"{one['qps']:.1f} with one ({eight['qps'] / one['qps']:.2f}x; p50 "
        f"{eight['p50_ms']:.0f} ms against {one['p50_ms']:.0f} ms), with 32 clients "
        f"{thirty_two['qps']:.1f} q/s: queries that arrive while the model is busy share its "
        "next call, and with ONNX Runtime two workers run calls side by side "
        "(index/embedding/batching.py), on two cores that the clients, uvicorn and the event loop share "
        "with the model. " + _small_parts(pr)
    )
    if p and "error" not in p:
        verdict = "met" if p["search_vs_txtai"] >= 1.5 else "missed"
        text += (
            f" Against the peer: our 8 HTTP clients get {p['search_vs_txtai']:.2f}x txtai's "
            f"sequential in-process rate (target 1.5x, {verdict}); txtai pays neither HTTP "
            "nor a framework."
        )
        if "model_batched_qps" in p:
            text += (
                f" The model alone, encoding the same queries in calls of 8 in-process, gives "
                f"{p['model_batched_qps']:.0f} q/s, {p['model_batched_vs_txtai']:.2f}x txtai's "
                f"rate, on one worker; the server, whose two workers run side by side, reaches "
                f"{p['ours_http8_qps'] / p['model_batched_qps']:.0%} of it over HTTP."
            )
    lines.append(text)
    default = next(
        (
            v["p50_ms"]
            for k, v in t.items()
            if k.startswith("in-process, main thread, ") and "1 thread" not in k
        ),
        None,
    )
    single = t.get("in-process, main thread, 1 thread", {}).get("p50_ms")
    teams = q.get("thread_teams_ms")
    text = "3. **torch's threads.** "
    if teams:
        text += (
            "One-query encodes in a fresh process, p50 ("
            + "; ".join(f"{k}: {v:.1f} ms" for k, v in teams.items())
            + "): every thread that runs torch gets its own OpenMP team, and a second team "
            "slows the first; the server therefore runs all of its torch work on one thread. "
        )
    if default and single:
        text += (
            f"In the baseline's process, one-query encodes took {default:.1f} ms p50 with "
            f"torch's default threads and {single:.1f} ms with one. "
        )
    th = (q.get("threads") or {}).get("table")
    if th:

        def runs(engine: str, machine: str, p95: bool) -> str:
            return ", ".join(
                f"{th[f'{engine}, {how}, {machine}']['p50_ms']:.1f} ms"
                + (f" (p95 {th[f'{engine}, {how}, {machine}']['p95_ms']:.0f})" if p95 else "")
                + f" {label}"
                for how, label in THREAD_LABELS
                if f"{engine}, {how}, {machine}" in th
            )

        text += (
            "With one core kept busy by another process (bench/perf_threads.py), one-query "
            f"encodes took, p50: PyTorch {runs('torch', 'one core busy', True)}; ONNX Runtime "
            f"{runs('onnx', 'one core busy', True)}. On the machine as it was: PyTorch "
            f"{runs('torch', 'quiet', False)}; ONNX Runtime {runs('onnx', 'quiet', False)}. "
            "The service therefore runs the model with ONNX Runtime (index/embedding/onnx_engine.py), "
            "whose idle threads sleep instead of spinning, with a thread per core for a lone "
            "call; on PyTorch it picks the thread count of small calls from their measured "
            "times, trying the other count now and then (index/embedding/threads.py)."
        )
    omp = t.get("HTTP hybrid, 1 client, OMP 1 thread")
    if omp:
        text += (
            f" A server started with `OMP_NUM_THREADS=1` (one thread always) answered one client "
            f"in {omp['p50_ms']:.0f} ms p50 against {one['p50_ms']:.0f} ms."
        )
    lines.append(text)
    return lines


def _build_diagnosis(b) -> str:
    """Which of threads, batch size, chunking and the non-embedding work explain the gap."""
    raw, threads = b["raw_encode_s"], b["default_threads"]
    by_threads = {
        t: min((v for k, v in raw.items() if k.endswith(f", {t} thread(s)")), default=None)
        for t in sorted({1, threads})
    }
    batch = b.get("build_batch_size", 64)
    same = raw.get(f"batch {batch}, {threads} thread(s)")  # the build's batch, default threads
    chunks, full = b["encode_in_chunks_s"], b["build_full_s"]
    text = (
        f"4. **Build at {b['build_vs_raw']:.2f}x the raw encode rate.** In the scan, the fastest "
        f"raw encode was {b['best_raw']} ("
        + ", ".join(f"best with {t} thread(s): {v:.1f} s" for t, v in by_threads.items() if v)
        + f"). The build encodes with {'ONNX Runtime' if b.get('engine') == 'onnx' else 'PyTorch'}"
        " (a thread per core) in calls of 64 texts, "
        f"{'longest first across the build, ' if b.get('build_sorts') else ''}at batch size {batch}"
    )
    if same and b.get("engine") != "onnx":
        text += (
            f": that configuration took {same:.1f} s in the scan, so the batch size (padding "
            "every text of a batch to the longest, on abstracts of up to 256 tokens) and the "
            f"threads account for {same / min(raw.values()):.2f}x"
        )
    rest = f"{full - chunks:.1f} s" + (" (within the noise)" if full < chunks else "")
    if b.get("engine") == "onnx":
        text += (
            f". Its embedding step alone (`embed_in_chunks`) took {chunks:.1f} s against "
            f"{b['raw_best_s']:.1f} s for raw sentence-transformers at its best"
        )
    else:
        cost = "costs little" if same and chunks <= 1.1 * same else "costs"
        text += (
            f". The build's own chunking {cost} ({chunks:.1f} s in chunks against "
            f"{same or float('nan'):.1f} s in one call)"
        )
    text += (
        f", and everything else in a build (parse, "
        f"hashes, FAISS, writing with fsync) {rest}. The one-entry edit rebuild "
        f"({b['edit_rebuild_s']:.2f} s, {b['edit_vs_full']:.3f}x) re-reads and re-parses the "
        "list and abstracts, and writes a whole new index generation (index/stores/store.py) besides "
        "embedding one entry."
    )
    return text


def _checkpr_diagnosis(c, m, ec=None, em=None) -> str:
    bits = []
    if c:
        fit = c.get("fit_base_categorizer_s")
        bits.append(
            f"check-pr takes {c['checkpr_s']:.2f} s where embedding its {c['added']} papers "
            f"takes {c['embed_added_s']:.2f} s ({c['checkpr_vs_embed']:.1f}x"
            + _was(ec and ec["checkpr_vs_embed"], ".0f", "x")
            + "): it reuses the categorizer the server fitted for the list it serves "
            "(index/categorize/reuse.py)"
            + (f", a fit that took {fit:.1f} s once" if fit else "")
            + f"; against another list it fits one ({c['checkpr_other_list_s']:.1f} s)"
        )
    if m:
        fit = ", ".join(f"{int(k):,} entries {v:.1f} s" for k, v in m["calibration_s"].items())
        before = (
            f", where the earlier run measured it growing as n^{em['calibration_exponent']:.1f} "
            f"({', '.join(f'{int(k):,} entries {v:.1f} s' for k, v in em['calibration_s'].items())})"
            if em
            else ""
        )
        bits.append(
            f"the fit took {fit}: above 2,000 entries it is fitted on a sample of about 2,000 "
            f"spread over the sections (index/categorize/training.py){before}; `serve` runs it in the "
            "background, so /search answers at once"
        )
    return "4. **The categorizer.** " + "; ".join(bits) + "."


def _was(value: float | None, fmt: str, unit: str = "") -> str:
    """``; X in the earlier run`` when the earlier run measured it."""
    return "" if value is None else f"; {value:{fmt}}{unit} in the earlier run"


def diagnosis(b, q, p, c, m, earlier=None) -> list[str]:
    ec, em = (earlier[4], earlier[5]) if earlier else (None, None)
    lines = ["## Diagnosis: where the time goes", ""]
    if q:
        lines += _query_diagnosis(q, p)
    if c or m:
        lines.append(_checkpr_diagnosis(c, m, ec, em))
    if b:
        lines.append(_build_diagnosis(b))
    if m:
        big = m["index_part"]
        lines.append(
            f"6. **At {big['entries']:,} entries** a hybrid search costs "
            f"{big['hybrid_search_p50_ms_without_encode']:.1f} ms without the encode (dense: "
            f"{big['dense_search_p50_ms_without_encode']:.1f} ms"
            + (
                "; the earlier run, which scored every entry: "
                f"{em['index_part']['hybrid_search_p50_ms_without_encode']:.1f} ms hybrid, "
                f"{em['index_part']['dense_search_p50_ms_without_encode']:.1f} ms dense"
                if em
                else ""
            )
            + "). The index is IVF above 50,000 entries, and the hybrid now fuses the IVF "
            "search's and BM25's best 200 candidates (index/search/ranking.py) instead of scoring "
            "every vector, which read all of them (154 MB) for every query; the top k comes "
            "from a partition, not a sort of every score."
        )
    items = [re.sub(r"^\d+\. ", "", line) for line in lines[2:]]
    return [*lines[:2], *(f"{i}. {item}" for i, item in enumerate(items, 1)), ""]


def sections(targets: list[str], b, q, p, s, c, m, earlier=None) -> list[str]:
    return [
        *header([b, q, p, s, c, m]),
        "## Ratios against the targets",
        "",
        *(
            [
                "The *earlier run* column: the same comparisons from the scripts' run earlier the same",
                "day on the same machine, before this round of changes (ONNX Runtime, the model's",
                "own workers, the async /search, the categorizer's reuse and sampled fit, hybrid",
                "candidates on IVF) and before some changes to the scripts' method (the",
                "baseline's own process, the lean client).",
                "",
            ]
            if "earlier run" in targets[0]
            else []
        ),
        *targets,
        "",
        *build_section(b),
        *query_section(q),
        *peer_section(p),
        *scale_section(s),
        *checkpr_section(c),
        *memory_section(m),
        *diagnosis(b, q, p, c, m, earlier),
    ]
