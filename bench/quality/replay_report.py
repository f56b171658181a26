"""The replay's tables in docs/quality.md, written between two markers from the JSON of
``replay_lists.py`` (figures are never typed in)."""

from __future__ import annotations

from pathlib import Path


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _row(name: str, f: dict) -> str:
    ours, knn = f["ours"], f["knn"]
    ece = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    return (
        f"| {name} | {f['adding_steps']} | {f['judged']} | {_pct(ours['top1'])} | "
        f"{_pct(knn['top1'])} | {_pct(ours['top3'])} | {_pct(knn['top3'])} | "
        f"{ece(ours['ece'])} | {ece(knn['ece'])} | {_pct(ours['ok'])} | {_pct(ours['move'])} | "
        f"{_pct(ours['unsure'])} | {_pct(knn['ok'])} / {_pct(knn['move'])} | "
        f"{f['new_or_empty']}: {_pct(f['new_or_empty_top1'])} / {_pct(f['new_or_empty_top3'])} | "
        f"{f['misplacements_caught']} of {f['misplacements']} ({f['misplacements_top1']} top-1, "
        f"{f.get('misplacements_top3', 0)} top-3; kNN {f['misplacements_knn_top1']}, "
        f"{f.get('misplacements_knn_top3', 0)}) | {f['duplicates_flagged']} of {f['duplicates']} | "
        f"{'–' if f['seconds_per_step'] is None else round(f['seconds_per_step'], 2)} |"
    )


def table(report: dict) -> list[str]:
    lines = [
        f"Model: {report['model']}. Run: {report['started']}. Rows: the lists of "
        "`../shared/datasets/list-histories/`, each replayed step by step with only what BASE "
        "knew (`secml-papers replay`; `python -m bench.quality.replay_lists`). *Judged*: "
        "additions to sections that held entries in BASE, in steps whose BASE has >= 10 "
        "entries in >= 2 sections. Verdicts are shares of all accepted placements of such "
        'steps; every one was accepted, so "move" is a false alarm.',
        "",
        "| list | adding steps | judged | top-1 | kNN top-1 | top-3 | kNN top-3 | ECE | kNN ECE "
        "| ok | move | unsure | kNN ok / move | new or empty: top-1 / top-3 | misplacements "
        "caught | duplicates flagged | s per step |",
        "|---|" + "---:|" * 16,
    ]
    for name, item in report["lists"].items():
        f = item["figures"]
        label = name.split("+", 1)[-1] + (" (sections by year)" if f["by_year"] else "")
        if item.get("limited"):
            label += f" (last {item['limited']} steps)"
        lines.append(_row(label, f))
    lines.append(_row("**pooled** (lists by topic)", report["pooled"]))
    lines += [
        "",
        *targets(report),
        "",
        "Leave-one-list-out choice of check-pr's prior and move threshold "
        "(chosen on the other lists: at most 2% false moves, then most misplacements "
        'caught, then most "ok"):',
        "",
        "| list | prior | move above | ok | move | unsure | misplacements caught |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in report["leave_one_list_out"].items():
        n = max(c["n"], 1)
        lines.append(
            f"| {name.split('+', 1)[-1]} | {c['prior']} | {c['move_above']} | "
            f"{_pct(c['ok'] / n)} | {_pct(c['move'] / n)} | {_pct(c['unsure'] / n)} | "
            f"{c['caught']} of {c['misplaced']} |"
        )
    return lines


def targets(report: dict) -> list[str]:
    """Issue 14's targets on the pooled figures (lists by topic), each met or missed."""
    f = report["pooled"]
    ours, knn = f["ours"], f["knn"]
    topical = {n: i["figures"] for n, i in report["lists"].items() if not i["figures"]["by_year"]}
    below = [
        n.split("+", 1)[-1] for n, g in topical.items() if g["ours"]["top1"] < g["knn"]["top1"]
    ]
    rows = [
        (
            "blind top-1 >= kNN vote's + 0.10",
            ours["top1"] >= knn["top1"] + 0.10,
            f"{_pct(ours['top1'])} against {_pct(knn['top1'])}",
        ),
        ("no list below its kNN vote (top-1)", not below, ", ".join(below) or "none below"),
        ("blind top-3 >= 0.95", ours["top3"] >= 0.95, _pct(ours["top3"])),
        ("ECE <= 0.05", ours["ece"] <= 0.05, f"{ours['ece']:.3f}"),
        (
            'check-pr "move it" <= 2% of accepted placements',
            ours["move"] <= 0.02,
            _pct(ours["move"]),
        ),
        ('check-pr "placement ok" >= 75%', ours["ok"] >= 0.75, _pct(ours["ok"])),
        (
            "later section suggested at addition (first among the comment's suggestions) "
            "for >= half of the misplacements",
            f["misplacements_top1"] * 2 >= f["misplacements"] > 0,
            f"{f['misplacements_top1']} of {f['misplacements']} (told to move there: "
            f"{f['misplacements_caught']}; among the three suggestions: "
            f"{f.get('misplacements_top3', 0)})",
        ),
    ]
    out = [
        "Targets (pooled over the lists organised by topic):",
        "",
        "| target | | measured |",
        "|---|---|---|",
    ]
    out += [f"| {name} | {'met' if ok else '**missed**'} | {value} |" for name, ok, value in rows]
    return out


def write_docs(report: dict, path: Path, start: str, end: str) -> None:
    """Replace what stands between the markers (or append a section with them)."""
    text = path.read_text() if path.exists() else ""
    block = "\n".join([start, *table(report), end])
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Placement on real list histories\n\n" + block + "\n"
    path.write_text(text)
