"""## Soak: bench/performance/soak.py's results (soak.json) as docs/benchmarks.md's section,
its two rows of the ratio table, and docs/bench-soak.png (RSS and latency over time)."""

from __future__ import annotations

from pathlib import Path

from bench.common.measure import meets


def _span(seconds: float) -> str:
    """Minutes for the full run's windows, seconds for a short run's."""
    return f"{seconds / 60:.3g} min" if seconds >= 60 else f"{seconds:.3g} s"


def _row(what: str, ratio: float | None, target: str, context: str) -> str:
    if ratio is None:
        return f"| {what} | – | {target}x | not measured | {context} |"
    mark = "met" if meets(ratio, target) else "**MISSED**"
    return f"| {what} | {ratio:.2f}x | {target}x | {mark} | {context} |"


def _mean_load(r: dict, start: float, end: float) -> str:
    """The mean 1-minute load average of the samples taken between ``start`` and ``end``."""
    loads = [s[3] for s in r["samples"] if start <= s[0] <= end]
    return f"{sum(loads) / len(loads):.1f}" if loads else "–"


def _rebuilt_notes(r: dict) -> list[str]:
    """A reload after another process's build should embed nothing; say when one did more."""
    again = [e for e in r["events"] if "build_s" in e and e.get("embedded", 0) > 0]
    if not again:
        return []
    at = ", ".join(f"{e['at'] / 60:.1f} min ({e['embedded']:,})" for e in again)
    return [
        "The reloads after a `secml-papers build` in another process embedded entries the "
        f"build had just embedded, at {at}: the server did not reuse that build's vectors.",
        "",
    ]


def _error_kinds(r: dict) -> str:
    """The errors by operation and status (-1: no answer), from the request log."""
    ops = list(r["mix"])
    kinds: dict[str, int] = {}
    for _, op, status, _ms in r["request_log"]:
        if status not in (200, 429):
            what = f"{ops[op]} {'no answer' if status < 0 else status}"
            kinds[what] = kinds.get(what, 0) + 1
    return f" ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})" if kinds else ""


def soak_rows(r: dict | None) -> list[str]:
    """The ratio table's rows: RSS at the end against 20 minutes before, p99 last/first."""
    if not r:
        return []
    v = r["verdicts"]
    growth = 1 + v["rss_growth"] if v["rss_growth"] is not None else None
    d = r["duration_s"]
    return [
        _row(
            f"soak: server RSS at the end / {_span(d * 2 / 3)} before",
            growth,
            "<= 1.05",
            f"{r['rss_ref_mb']} -> {r['rss_end_mb']} MB, {r['entries']:,} entries, "
            f"{r['clients']} clients, {_span(d)}; errors {v['errors']} (target 0)",
        ),
        _row(
            f"soak: p99 of the last {_span(d / 6)} / the first {_span(d / 6)}",
            v["p99_ratio"],
            "<= 1.5",
            f"{r['p99_last_ms']} ms vs {r['p99_first_ms']} ms (all operations, answered)",
        ),
    ]


def soak_section(r: dict | None) -> list[str]:
    if not r:
        return ["## Soak (issue 17)", "", "Not run (bench/performance/soak.py).", ""]
    v = r["verdicts"]
    d = r["duration_s"]
    sixth, two_thirds = _span(d / 6), _span(d * 2 / 3)
    seconds = r["build"]["seconds"]
    built = f"built in {seconds} s" if seconds else "built as the server started"
    in_first = sum(e["at"] < d / 6 for e in r["events"])
    in_last = sum(e["at"] + e["seconds"] > r["seconds"] - d / 6 for e in r["events"])

    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    growth = f"{v['rss_growth']:+.1%}" if v["rss_growth"] is not None else "–"
    mix = ", ".join(f"{op} {share:.0%}" for op, share in r["mix"].items())
    ops = [
        "| operation | answered | 429 (sent again) | p50 (ms) | p95 (ms) | p99 (ms) | "
        f"p99 first {sixth} | p99 last {sixth} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in r["per_op"].items():
        cells = [s[k] for k in ("p50_ms", "p95_ms", "p99_ms", "first_p99_ms", "last_p99_ms")]
        ops.append(
            f"| {name} | {s['requests']:,} | {s['refused_429']:,} | "
            + " | ".join("–" if c is None else str(c) for c in cells)
            + " |"
        )
    reloads = [
        "| at (min) | how | build (s) | reload (s) | papers | added / removed | embedded | "
        "new entry found |",
        "|---:|---|---:|---:|---:|---|---:|---|",
    ]
    for e in r["events"]:
        reloads.append(
            f"| {e['at'] / 60:.1f} | {e['kind']} | {e.get('build_s', '–')} | "
            f"{e.get('reload_s', '–')} | {e.get('papers', '–')} | {e.get('added', '–')} / "
            f"{e.get('removed', '–')} | {e.get('embedded', '–')} | "
            f"{'yes' if e.get('found_new_entry') else 'no'} |"
        )
    return [
        "## Soak (issue 17)",
        "",
        f"`bench/performance/soak.py`: `secml-papers serve` (model {r['model']}, default "
        f"limits) on a generated list of {r['entries']:,} entries (the data set's papers, "
        f"titles only, repeated under numbered titles; {built}), "
        f"{r['clients']} clients for {_span(d)} on kept-alive connections, each "
        f"request drawn from {mix} (check-pr sends the whole list as BASE), a pause of "
        f"{r['think_s']} s on average between a client's requests; a 429 is sent again after "
        f"its `Retry-After`. Every {_span(r['reload_every_s'])}, half a period in, the "
        "list is edited (3 entries added, 2 venues changed, one retitled) and the server "
        "reloads it (`POST /admin/reload`), after a `secml-papers build` in another process "
        "or building the edit itself, in turn.",
        "",
        "| target | measured | target | |",
        "|---|---:|---:|---|",
        f"| errors (5xx, other 4xx, no answer, failed reloads) | {v['errors']} | 0 | "
        f"{mark(v['errors_met'])} |",
        f"| RSS growth over the last {two_thirds} | {growth} | "
        f"{v['rss_growth_target']} | {mark(v['rss_growth_met'])} |",
        f"| p99, last {sixth} / first {sixth} | {v['p99_ratio']}x | "
        f"{v['p99_ratio_target']}x | {mark(v['p99_ratio_met'])} |",
        "",
        f"- {r['requests']:,} requests, {r['answered']:,} answered ({r['throughput_rps']} "
        f"a second), {r['refused_429']:,} answered 429 (the expensive endpoints' bound: the "
        "server shedding work with `Retry-After`; counted, not errors, as the client waits "
        f"and sends again), {r['request_errors']} errors{_error_kinds(r)}, "
        f"{r['reload_failures']} failed reloads.",
        f"- RSS (median of the samples over {r['windows']['rss_median_s']:g} s): "
        f"{r['rss_ref_mb']} MB at {_span(d / 3)}, {r['rss_end_mb']} MB at the end, "
        f"peak {r['rss_peak_mb']} MB (after start: {r['rss_after_start_mb']} MB); slope over "
        f"the last {two_thirds} {r['rss_slope_mb_per_min']} MB/min.",
        f"- p99 of the answered requests: {r['p99_first_ms']} ms in the first {sixth}, "
        f"{r['p99_last_ms']} ms in the last; reloads in them: {in_first} and {in_last}; the "
        f"machine's load average meanwhile {_mean_load(r, 0, d / 6)} and "
        f"{_mean_load(r, r['seconds'] - d / 6, r['seconds'])}.",
        f"- The machine: {r['cores']} cores shared with other work during the run (other "
        f"sessions building and testing): load average (1 min) {r['load1_mean']} on average, "
        f"{r['load1_max']} at most; the cores {r['machine_busy_mean']:.0%} busy; the server "
        f"itself {r['server_cpu_cores']} cores.",
        "",
        *ops,
        "",
        *reloads,
        "",
        *_rebuilt_notes(r),
        "![RSS and latency over the soak](bench-soak.png)",
        "",
        f"Measured {r['measured_at']} at {r['commit']}.",
        "",
    ]


def plot_soak(r: dict, out: Path) -> None:
    """RSS (and the machine's load) above, p50/p99 per bin below, the reloads marked."""
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    t = [s[0] / 60 for s in r["samples"]]
    top.plot(t, [s[1] for s in r["samples"]], color="#3b6ea5", label="server RSS (MB)")
    top.set_ylabel("RSS, MB")
    load = top.twinx()
    load.plot(t, [s[3] for s in r["samples"]], color="#999999", lw=0.8, label="load average")
    load.set_ylabel("load average (1 min)", color="#777777")
    bins = [b for b in r["per_minute"] if b["answered"]]
    mid = r["windows"]["bin_s"] / 120  # half a bin, in minutes
    x = [b["from_s"] / 60 + mid for b in bins]
    bottom.plot(x, [b["p99_ms"] for b in bins], marker="o", ms=3, color="#c0392b", label="p99")
    bottom.plot(x, [b["p50_ms"] for b in bins], marker="o", ms=3, color="#3b6ea5", label="p50")
    bottom.set_yscale("log")
    bottom.set_ylabel("latency, ms (answered, all operations)")
    bottom.set_xlabel("minutes")
    for ax in (top, bottom):
        for e in r["events"]:
            ax.axvline(e["at"] / 60, color="#e3a33b", ls="--", lw=1)
    bottom.plot([], [], color="#e3a33b", ls="--", label="edit + reload")
    bottom.legend(fontsize=8, loc="upper left")
    top.legend(fontsize=8, loc="upper left")
    top.set_title(
        f"Soak: {r['clients']} clients, {r['entries']:,} entries, model {r['model']}, "
        f"{r['measured_at']}"
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
