"""What bench/performance/soak.py measured, as soak.json's figures and the printed verdicts.

The windows follow the issue's 30-minute run and scale with shorter ones: the p99s compare
the first and the last sixth of the run (5 of 30 minutes), the RSS growth is over the last
two thirds (20 of 30 minutes), the medians of the samples of one thirtieth (a minute) at
each end, and the latency series has thirty bins (a minute each).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from bench.performance.soak_clients import MIX, OPS

RSS_TARGET, P99_TARGET = 0.05, 1.5  # the issue's: <= 5% growth, <= 1.5x


def stats(ms: np.ndarray) -> dict:
    if not len(ms):
        return {"requests": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {
        "requests": len(ms),
        "p50_ms": round(float(p50), 1),
        "p95_ms": round(float(p95), 1),
        "p99_ms": round(float(p99), 1),
        "max_ms": round(float(ms.max()), 1),
    }


def summary(args: argparse.Namespace, load, events: list[dict], samples: list[list]) -> dict:
    rows = np.array([(t, OPS.index(op), s, sec * 1000) for t, op, s, sec in load.rows])
    rows = rows.reshape(-1, 4)
    t, op, status, ms = rows.T
    end = float(max(t.max() if len(t) else 0.0, args.duration))
    ok = status == 200
    sixth, thirtieth = args.duration / 6, args.duration / 30
    first = ok & (t < sixth)
    last = ok & (t >= end - sixth)
    p99_first = stats(ms[first])["p99_ms"]
    p99_last = stats(ms[last])["p99_ms"]
    p99_ratio = p99_last / p99_first if p99_first and p99_last else None

    sam = np.array(samples).reshape(-1, 5)
    at_third = end / 3  # the last two thirds start here (at 10 of 30 minutes)
    ref = sam[(sam[:, 0] >= at_third - thirtieth) & (sam[:, 0] <= at_third), 1]
    tail = sam[sam[:, 0] >= end - thirtieth, 1]
    rss_ref = float(np.median(ref)) if len(ref) else None
    rss_end = float(np.median(tail)) if len(tail) else None
    growth = rss_end / rss_ref - 1 if rss_ref and rss_end else None
    later = sam[sam[:, 0] >= at_third]
    slope = float(np.polyfit(later[:, 0], later[:, 1], 1)[0]) * 60 if len(later) > 2 else None

    request_errors = int(((status != 200) & (status != 429)).sum())
    bad_reloads = [
        e
        for e in events
        if e.get("status") != 200
        or e.get("build_exit", 0) != 0
        or not e.get("found_new_entry")
        or (e.get("added"), e.get("removed")) != tuple(e["expected"].values())
    ]
    bins = []
    width = end / 30  # the run may outlast --duration while its last reload finishes
    for k in range(30):
        lo, hi = k * width, (k + 1) * width if k < 29 else end + 1
        sel = (t >= lo) & (t < hi)
        s = stats(ms[sel & ok])
        bins.append(
            {
                "from_s": round(lo, 1),
                "requests": int(sel.sum()),
                "answered": s["requests"],
                "p50_ms": s["p50_ms"],
                "p99_ms": s["p99_ms"],
                "refused_429": int((sel & (status == 429)).sum()),
                "errors": int((sel & (status != 200) & (status != 429)).sum()),
            }
        )
    per_op = {}
    for i, name in enumerate(OPS):
        sel = op == i
        per_op[name] = {
            **stats(ms[sel & ok]),
            "attempts": int(sel.sum()),
            "refused_429": int((sel & (status == 429)).sum()),
            "first_p99_ms": stats(ms[sel & first])["p99_ms"],
            "last_p99_ms": stats(ms[sel & last])["p99_ms"],
        }
    busy = sam[1:, 4] if len(sam) > 1 else sam[:, 4]
    errors = request_errors + len(bad_reloads)
    verdicts = {
        "errors": errors,
        "errors_met": errors == 0,
        "rss_growth": round(growth, 4) if growth is not None else None,
        "rss_growth_target": f"<= {RSS_TARGET:.0%}",
        "rss_growth_met": growth is not None and growth <= RSS_TARGET,
        "p99_ratio": round(p99_ratio, 3) if p99_ratio else None,
        "p99_ratio_target": f"<= {P99_TARGET}",
        "p99_ratio_met": p99_ratio is not None and p99_ratio <= P99_TARGET,
    }
    verdicts["all_met"] = all(
        verdicts[k] for k in ("errors_met", "rss_growth_met", "p99_ratio_met")
    )
    return {
        "duration_s": args.duration,
        "seconds": round(end, 1),
        "clients": args.clients,
        "entries": args.entries,
        "reload_every_s": args.reload_every,
        "think_s": args.think,
        "model": "fake" if args.fake else "all-MiniLM-L6-v2",
        "mix": dict(MIX),
        "requests": len(t),
        "answered": int(ok.sum()),
        "refused_429": int((status == 429).sum()),
        "request_errors": request_errors,
        "reload_failures": len(bad_reloads),
        "error_samples": load.errors[:5],
        "throughput_rps": round(float(ok.sum()) / end, 1) if end else 0.0,
        "latency": stats(ms[ok]),
        "per_op": per_op,
        "p99_first_ms": p99_first,
        "p99_last_ms": p99_last,
        "windows": {
            "p99_s": round(sixth, 1),
            "rss_median_s": round(thirtieth, 1),
            "bin_s": round(width, 1),
        },
        "rss_ref_mb": round(rss_ref, 1) if rss_ref else None,
        "rss_end_mb": round(rss_end, 1) if rss_end else None,
        "rss_peak_mb": float(sam[:, 1].max()) if len(sam) else None,
        "rss_slope_mb_per_min": round(slope, 2) if slope is not None else None,
        "server_cpu_cores": round(float(sam[-1, 2] - sam[0, 2]) / end, 2) if len(sam) else None,
        "load1_mean": round(float(sam[:, 3].mean()), 2) if len(sam) else None,
        "load1_max": round(float(sam[:, 3].max()), 2) if len(sam) else None,
        "machine_busy_mean": round(float(busy.mean()), 3) if len(busy) else None,
        "cores": os.cpu_count(),
        "verdicts": verdicts,
        "events": events,
        "per_minute": bins,
        "samples_fields": ["t_s", "rss_mb", "server_cpu_s", "load1", "machine_busy"],
        "samples": samples,
        "request_fields": ["started_s", "op (index in mix)", "status", "ms"],
        "request_log": [[round(a, 3), int(b), int(c), round(d, 2)] for a, b, c, d in rows],
    }


def show(r: dict) -> None:
    v = r["verdicts"]
    print(
        f"soak: {r['clients']} clients, {r['seconds']} s, {r['entries']} entries, model "
        f"{r['model']}, reload every {r['reload_every_s']} s"
    )
    print(
        f"requests {r['requests']}: {r['answered']} answered, {r['refused_429']} 429 (sent "
        f"again after Retry-After), {r['request_errors']} errors; {r['throughput_rps']} req/s"
    )
    print(f"{'operation':12} {'n':>7} {'429':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for name, s in r["per_op"].items():
        print(
            f"{name:12} {s['requests']:>7} {s['refused_429']:>5} {s['p50_ms']!s:>8} "
            f"{s['p95_ms']!s:>8} {s['p99_ms']!s:>8} {s['max_ms']!s:>8}"
        )
    for e in r["events"]:
        keys = ("cycle", "at", "kind", "build_s", "status", "reload_s", "added", "removed")
        print("  reload: " + ", ".join(f"{k} {e.get(k)}" for k in keys if k in e))
    for sample in r["error_samples"]:
        print(f"  error: {sample}")
    print(
        f"RSS {r['rss_ref_mb']} MB -> {r['rss_end_mb']} MB (peak {r['rss_peak_mb']}, slope "
        f"{r['rss_slope_mb_per_min']} MB/min); server {r['server_cpu_cores']} cores; load1 "
        f"mean {r['load1_mean']}, max {r['load1_max']}; machine busy {r['machine_busy_mean']}"
    )
    mark = {True: "met", False: "MISSED"}
    print(f"errors: {v['errors']} (target 0) {mark[v['errors_met']]}")
    growth = f"{v['rss_growth']:+.1%}" if v["rss_growth"] is not None else "n/a"
    print(
        f"RSS growth over the last two thirds: {growth} (target {v['rss_growth_target']}) "
        f"{mark[v['rss_growth_met']]}"
    )
    print(
        f"p99 last sixth / first sixth: {r['p99_last_ms']} / {r['p99_first_ms']} ms = "
        f"{v['p99_ratio']}x (target {v['p99_ratio_target']}x) {mark[v['p99_ratio_met']]}"
    )
