"""## Fair sharing under check-pr load: bench/performance/perf_fair.py's results, written into
docs/benchmarks.md between its own markers (from the JSON, never typed in)."""

from __future__ import annotations

from bench.common.paths import DOCS

START, END = "<!-- fair:start -->", "<!-- fair:end -->"


def section(r: dict) -> str:
    """docs/benchmarks.md's section, from the JSON alone."""
    a, b, a2 = (r["phases"][k] for k in ("A", "B", "A2"))
    c = b["checkpr"]
    met = "met" if r["p95_ratio_met"] else "**missed**"
    ok5 = "met" if r["fivexx_met"] else "**missed**"
    rows = [
        "| phase | /search requests | p50 (ms) | p95 (ms) | p99 (ms) | q/s | 5xx | server CPU "
        "(cores) | machine busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, p in (
        ("A: 20 search clients", a),
        ("B: 20 search + 5 check-pr clients", b),
        ("A': 20 search clients again", a2),
    ):
        s = p["search"]
        rows.append(
            f"| {label} | {s['requests']:,} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | "
            f"{s['qps']} | {p['fivexx']} | {p['server_cpu_cores']} | "
            f"{p['machine_busy_share']:.0%} |"
        )
    cost = b["server_cpu_cores"] - a["server_cpu_cores"]
    cpu = (
        f"The server used {b['server_cpu_cores']} cores in B against {a['server_cpu_cores']} in "
        f"A ({cost:+.2f}) of {a['cores']}, the machine was {b['machine_busy_share']:.0%} busy "
        f"(the clients, one Python process: {b['client_cpu_cores']} cores), load average after "
        f"B {', '.join(str(x) for x in b['loadavg_after'])}"
    )
    if cost < 0.15 and b["machine_busy_share"] < 0.9:
        cpu += (
            ": the server did no more work in B, it did other work, so the cores were not what "
            "searches waited for. The likely cause: check-pr runs in the threadpool as Python (parse, diff, lint, "
            "placement by the categorizer), and Python runs one thread at a time: the event loop "
            "that reads, ranks and answers every search waits for the interpreter lock while a "
            "check-pr holds it; check-pr also embeds its added titles on the model's workers that "
            "encode the queries (index/embedding/batching.py)."
        )
    else:
        cpu += ": every CPU-second check-pr took is one the searches waited for."
    help_ = (
        f"- These {r['checkpr_clients']} clients asked {c['per_s']} check-pr a second, back to "
        "back, where a list receives a few pull requests a day: the in-flight bound kept them "
        f"to {r.get('slots', 2)} at a time. What would help further (none of it measured here): check-pr's work "
        "outside the server's interpreter (a process pool for the expensive endpoints, or a "
        "second `serve` process behind the proxy for them, docs/deploy.md), so searches do not "
        "share its lock; a per-client rate "
        "(`SECML_PAPERS_RATE_PER_MINUTE`), which no real CI job would notice."
    )
    lines = [
        "## Fair sharing under check-pr load (issue 16)",
        "",
        "`bench/performance/perf_fair.py`: `secml-papers serve` on the bundled list "
        f"({r['base_entries']} entries, the real model) with the default limits "
        f"(service/limits.py: {r.get('slots', 2)} expensive request(s) in flight, 5 s queue "
        "wait, then 429 with "
        f"`Retry-After`). Each phase lasts {r['seconds_per_phase']:g} s; the "
        f"{r['search_clients']} search clients send distinct queries (data set titles, tldrs, "
        "abstract phrases) back to back on kept-alive connections; in B, "
        f"{r['checkpr_clients']} clients loop on `POST /check-pr` with BASE the bundled list "
        "and HEAD it plus 3-5 papers of the data set at the top of its sections (different "
        "papers every time), sleeping `Retry-After` on a 429 and sending again.",
        "",
        *rows,
        "",
        f"- /search p95 with check-pr load against without: **{r['p95_ratio']}x** (target "
        f"<= 2x, {met}; against A', run after B: {r['p95_ratio_after']}x).",
        f"- 5xx: **{r['fivexx']}** over the three phases (target 0, {ok5}).",
        f"- check-pr in B: {c['completed']} completed ({c['per_s']}/s, {c['entries_added']} "
        f"entries checked), {c['refused_429']} answered 429; a request took p50 "
        f"{c['p50_ms']} ms, p95 {c['p95_ms']} ms, its wait for one of the {r.get('slots', 2)} slot(s) included "
        f"(p95 {c['with_waits_p95_ms']} ms with the `Retry-After` sleeps).",
        f"- Where the time goes: /search answered {b['search']['qps']} q/s in B against "
        f"{a['search']['qps']} in A. {cpu}",
        help_,
        f"- Measured {r['measured_at']} at {r['commit']}.",
    ]
    return "\n".join(lines)


def write_docs(r: dict) -> None:
    """Replace the text between the markers in docs/benchmarks.md (or add it at the end)."""
    path = DOCS / "benchmarks.md"
    page = path.read_text(encoding="utf-8")
    block = f"{START}\n{section(r)}\n{END}"
    if START in page and END in page:
        before, rest = page.split(START, 1)
        page = before + block + rest.split(END, 1)[1]
    else:
        page = page.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(page, encoding="utf-8")
    print(f"wrote {path}'s fair-sharing section")
