"""## Diagnosis: where the time goes, in sentences around the figures of every section."""

from __future__ import annotations

import re


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
            "With one core kept busy by another process (bench/performance/perf_threads.py), one-query "
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
