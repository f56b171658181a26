"""## The int8 engine: bench/quality/int8_compare.py's results (``$SECML_BENCH_OUT/int8.json``),
speed and quality side by side with float32, and the issue's rule for the default."""

from __future__ import annotations

import json

from bench.common.results import RESULTS

TITLE = "## The int8 engine against float32 (`bench/quality/int8_compare.py`)"


def load() -> dict | None:
    path = RESULTS / "int8.json"
    return json.loads(path.read_text()) if path.exists() else None


# the JSON's figure names, as the page says them
NAMES = {
    "mrr@10 dense": "known-item MRR@10, dense",
    "mrr@10 hybrid": "known-item MRR@10, hybrid (the default search)",
    "loo_top1": "leave-one-out top-1",
    "loo_top3": "leave-one-out top-3",
    "loo_ece": "leave-one-out ECE",
    "replay top1": "replay top-1",
    "replay top3": "replay top-3",
    "replay ece": "replay ECE",
    "replay ok": 'replay "placement ok" share',
    "replay move": 'replay "move" share (false alarms)',
    "empty top1": "new papers placed first in an empty section",
}


def _name(figure: str) -> str:
    key, _, rest = figure.partition(" (")
    return f"{NAMES.get(key, key)} ({rest}" if rest else NAMES.get(key, key)


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def int8_section(r: dict | None = None) -> list[str]:
    """The section from the JSON alone (read from the results folder when not given)."""
    r = r if r is not None else load()
    if not r:
        return [TITLE, "", "not run", ""]
    s, g, d = r["speed"], r["graphs"], r["decision"]
    run = r.get("main_run", r)  # the empty sections may have been added by a later run
    load_avg = ", ".join(f"{x:.1f}" for x in run["load"])
    lines = [
        TITLE,
        "",
        f"Measured {run['measured_at']} at {run['commit']}; load average {load_avg} at the end (2 "
        "cores shared with other work: read the ratios). Both engines are the service's ONNX "
        f"Runtime sessions: the exported float graph ({g['float32_mb']} MB, export "
        f"{g['export_s']} s) and its int8 dynamic quantization, per-channel weights "
        f"({g['int8_mb']} MB, quantized in {g['quantize_s']} s, once, into the cache), run one "
        "text at a time so that a text's vector does not depend on its batch. "
        f"{s['repeats']} repeats, the engines alternating which goes first.",
        "",
        "| speed | float32 | int8 | int8 speed-up | target |",
        "|---|---:|---:|---:|---|",
        f"| one-query encode p50 (ms, {s['float32']['calls']} calls each) | "
        f"{s['float32']['one_query_p50_ms']} | {s['int8']['one_query_p50_ms']} | "
        f"{s['one_query_speedup']:.2f}x | >= 1.5x {_mark(s['one_query_speedup'] >= 1.5)} |",
        f"| batch of {s['batch_size']} titles with abstracts (texts/s) | "
        f"{s['float32']['batch_texts_per_s']} | {s['int8']['batch_texts_per_s']} | "
        f"{s['batch_speedup']:.2f}x | >= 1.5x {_mark(s['batch_speedup'] >= 1.5)} |",
        *(
            [
                f"| batch of {s['batch_size']} titles alone (texts/s) | "
                f"{s['float32']['batch_titles_per_s']} | {s['int8']['batch_titles_per_s']} | "
                f"{s['batch_titles_speedup']:.2f}x | >= 1.5x "
                f"{_mark(s['batch_titles_speedup'] >= 1.5)} |"
            ]
            if "batch_titles_speedup" in s
            else []
        ),
        "",
        "Cosine of the int8 vector to the float32 one for the same text: "
        + "; ".join(
            f"{name} ({c['texts']}): min {c['min']}, 1st percentile {c['p1']}, mean {c['mean']}"
            for name, c in r["cosine"].items()
        )
        + ".",
        "",
        "| quality figure | float32 | int8 | cost (points) | within 1 point |",
        "|---|---:|---:|---:|---|",
    ]
    for row in r["quality"]:
        lines.append(
            f"| {_name(row['figure'])} | {row['float32']} | {row['int8']} | {row['cost_points']:+.2f} "
            f"| {_mark(row['within'])} |"
        )
    lines += ["", *(f"- {line}" for line in _sources(r)), "", _decision(d), ""]
    return lines


def _sources(r: dict) -> list[str]:
    variant = next(iter(r["eval"].values()))["float32"]
    out = [
        f"MRR@10 and leave-one-out (`secml-papers eval`): the OWASP benchmark list, "
        f"{variant['entries']} entries in {variant['sections']} sections, "
        f"{variant['queries']} known-item queries ({variant['query_source']}); the cost of "
        'ECE and of the "move" share is a rise, of the others a fall.'
    ]
    empty = r.get("empty")
    if empty:
        counts = ", ".join(
            f"{section} {a}/{b} against {empty['float32']['sections'][section][0]}/{b}"
            for section, (a, b) in empty["int8"]["sections"].items()
        )
        out.append(
            "Empty sections: real titles of the topics of the bundled list's two empty "
            f"sections (tests/fixtures/empty_sections_titles.json), placed first there: int8 "
            f"{counts} in float32; tests/test_empty_sections.py asks >= 90% per section"
            + (
                f" (measured apart, {r['measured_at']} at {r['commit']})."
                if "main_run" in r
                else "."
            )
        )
    replay = r.get("replay")
    if replay:
        p = replay["pooled"]["float32"]
        limit = replay["limit"]
        steps = "every step" if limit is None else f"the last {limit} steps"
        out.append(
            f"Replay: check-pr over the list histories, {steps} of each list and the last "
            f"{replay['big_limit']} of Awesome-LM-SSP, the same for both engines; pooled over the "
            f"lists organised by topic: {p['steps']} steps, {p['judged']} judged additions "
            f"(float32 {replay['pooled']['float32']['seconds']} s, int8 "
            f"{replay['pooled']['int8']['seconds']} s)."
        )
    return out


def _decision(d: dict) -> str:
    w = d["worst"]
    speed = "faster by 1.5x or more" if d["faster_enough"] else "not 1.5x faster"
    quality = (
        "within a point on every quality figure"
        if d["quality_kept"]
        else f"more than a point worse on at least one figure ({_name(w['figure'])}: "
        f"{w['cost_points']:+.2f} points)"
    )
    if d["default"] == "onnx-int8":
        return f"Decision (issue 17's rule): int8 is {speed} and {quality}: the default engine."
    return (
        f"Decision (issue 17's rule): int8 is {speed} and {quality}: it stays an option "
        "(`--engine onnx-int8`, `SECML_PAPERS_ENGINE=onnx-int8`); float32 ONNX stays the default."
    )
