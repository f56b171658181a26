"""## Query and ## Peer: perf_query.py's, perf_threads.py's and perf_peer.py's results."""

from __future__ import annotations


def query_section(q) -> list[str]:
    if not q:
        return ["## Query", "", "not run", ""]
    lines = [
        "## Query (`bench/performance/perf_query.py`)",
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
            "FastAPI, middleware, pydantic, JSON, the query's way to the model (the app called "
            "as ASGI with the stub, minus its search)",
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
        f"{pr['json']:.2f} ms, the whole app with the real model called as ASGI {pr['asgi']:.1f} ms.",
        "",
        "| part | ms | share of HTTP p50 |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {ms:.2f} | {ms / http:.0%} |" for name, ms in parts]
    lines += layers_section(q)
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
            "### torch's threads for one-query encodes (`bench/performance/perf_threads.py`)",
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


def layers_section(q: dict) -> list[str]:
    """### What each layer costs: query_parts/layers.py's medians, and a sentence from them."""
    ly = q.get("layers_ms")
    if not ly:
        return []
    served = ly["ASGI: the app as served"]
    server = q.get("server", {})
    load = q.get("load_average", {})
    lines = [
        "",
        "### What each layer costs",
        "",
        "perf_query.py's `query_parts/layers.py`, with the stub embedder (no model), the variants",
        f"interleaved over {q['repeats']} round(s) of {q['queries_per_pass']['1']} distinct "
        "queries, medians; in-process rows call the app as a server does (ASGI, no socket), HTTP "
        "rows go over a socket from one keep-alive client. `serve` runs on "
        f"{server.get('http', '?')} and {server.get('loop', '?')} here"
        + (
            f"; load average {load['start'][0]:.1f} at the start, {load['end'][0]:.1f} at the end"
            if load
            else ""
        )
        + ".",
        "",
        "| layer | ms |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {ms:.3f} |" for name, ms in ly.items()]
    middleware = {
        n.removeprefix("ASGI: without "): served - ms
        for n, ms in ly.items()
        if n.startswith("ASGI: without ") and "any" not in n
    }
    http = {n.removeprefix("HTTP: "): ms for n, ms in ly.items() if n.startswith("HTTP: ")}
    bare = next((ms for n, ms in http.items() if n.startswith("bare")), None)
    h11 = http.get("the app, h11 + asyncio")
    fast = http.get("the app, httptools + asyncio")
    pydantic = ly["response: pydantic validate + dump_json (FastAPI's path)"]
    hand_off = ly["hand-off to the model's worker and back (stub embedder)"]
    said = [
        f"Each layer now: the app as served {served:.2f} ms a request in process, of which "
        f"our middleware {served - ly['ASGI: without any of our middleware']:.2f} ms ("
        + ", ".join(f"{k} {v:.2f}" for k, v in middleware.items())
        + "), the search after the encode "
        f"{ly['the search after the encode (hybrid, stub vector)']:.2f} ms, pydantic's "
        "validation and JSON of the response "
        f"{pydantic:.3f} ms "
        f"(orjson alone {ly['response: orjson.dumps of the dict']:.3f}: not worth dropping the "
        "validation); a hand-off to the model's worker and back "
        f"{hand_off:.2f} ms, "
        "which a lone client's query no longer pays "
        f"({ly['no hand-off: embed_now on this thread (stub embedder)']:.3f} ms without it)"
    ]
    if bare is not None and h11 is not None and fast is not None:
        said.append(
            f"; over a socket, uvicorn, the socket and the client take {bare:.2f} ms (a bare "
            f"ASGI app), and the app costs {h11:.2f} ms with h11, {fast:.2f} ms with httptools "
            "(the default now), "
            f"{fast - served - bare:.2f} ms more than the app in process and the bare app "
            "together: no part measured here holds it (a server process that sleeps between "
            "requests on a busy machine, at this load average)"
        )
    return [*lines, "", "".join(said) + "."]


def peer_section(p) -> list[str]:
    if not p:
        return ["## Peer: txtai", "", "not run", ""]
    if "error" in p:
        return ["## Peer: txtai", "", f"Not measured: {p['error']}", ""]
    return [
        "## Peer: txtai (`bench/performance/perf_peer.py`)",
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
