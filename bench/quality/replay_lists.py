"""Replays every list history of ../shared/datasets/list-histories/ (``secml-papers replay``)
and writes the per-list and pooled tables, with the kNN vote beside, to a JSON file and to
docs/quality.md (between the replay markers). It also sweeps check-pr's prior on the
contributor's section and its move threshold over the recorded confidences, each value
judged leave-one-list-out, so the shipped numbers (index/categorize/verdict.py) come from
lists they were not chosen on.

Usage: python -m bench.quality.replay_lists [--limit N] [--only NAME] [--out FILE] [--model M]
(about 15 minutes on 2 cores without --limit; the LM-SSP list is most of it)
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

from bench.common.paths import DOCS
from bench.quality.fit_stance import HISTORIES, PATHS, all_examples, clone_all, without
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.verdict import reweigh, word
from secml_papers.index.embedding.embedder import DEFAULT_MODEL, SentenceTransformerEmbedder
from secml_papers.index.evaluation.replay_stats import figures
from secml_papers.service.replay import run_replay

# Its recent steps re-check lists of thousands of entries: the most recent ones by default
# (--full replays all of them: hours on 2 cores; 40 steps took about 5 minutes here).
LIMITS = {"ThuCCSLab+Awesome-LM-SSP": 40}
PRIORS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
MOVES = (0.5, 0.6, 0.7, 0.8, 0.9)
START, END = "<!-- replay:start -->", "<!-- replay:end -->"


def _reweigh(a, prior: float) -> tuple[float, float]:
    """A prior of 0 means none: the blind confidences as they are."""
    if prior == 0.0:
        return a.chosen_blind, a.other_blind
    return reweigh(a.chosen_blind, a.other_blind, a.candidates, prior)


def verdicts(additions, prior: float, move_above: float) -> tuple[int, int, int, int]:
    """(ok, move, unsure, n) for accepted placements under one prior and threshold."""
    counts = {"ok": 0, "move": 0, "unsure": 0}
    for a in additions:
        chosen, other = _reweigh(a, prior)
        counts[word(chosen, other, True, False, move_above)] += 1
    return counts["ok"], counts["move"], counts["unsure"], len(additions)


def caught(results, prior: float, move_above: float) -> tuple[int, int]:
    """Misplacements the history shows, and how many the verdict would have moved there."""
    added, total, hits = {}, 0, 0
    for r in results:
        for m in r.moves:
            a = added.get(m.paper_id)
            if a is None or a.section != m.source:
                continue
            total += 1
            chosen, other = _reweigh(a, prior)
            hits += word(chosen, other, True, False, move_above) == "move" and a.other == m.target
        for a in r.additions:
            added[a.paper_id] = a
    return hits, total


def sweep(per_list: dict) -> list[dict]:
    rows = []
    for prior in PRIORS:
        for move_above in MOVES:
            row = {"prior": prior, "move_above": move_above, "lists": {}}
            for name, results in per_list.items():
                eligible = [a for r in results for a in r.additions if a.eligible]
                ok, move, unsure, n = verdicts(eligible, prior, move_above)
                hits, total = caught(results, prior, move_above)
                row["lists"][name] = {
                    "ok": ok,
                    "move": move,
                    "unsure": unsure,
                    "n": n,
                    "caught": hits,
                    "misplaced": total,
                }
            rows.append(row)
    return rows


def leave_one_list_out(rows: list[dict], names: list[str]) -> dict:
    """For each list, the (prior, threshold) the other lists choose: the most placements
    said ok with at most 2% false "move"s, then the most misplacements caught."""
    chosen = {}
    for held in names:

        def score(row, held=held):
            sums = {
                k: sum(v[k] for n, v in row["lists"].items() if n != held)
                for k in ("ok", "move", "n", "caught")
            }
            n = max(sums["n"], 1)
            return (sums["move"] / n <= 0.02, sums["caught"], sums["ok"] / n)

        best = max(rows, key=score)
        chosen[held] = {
            "prior": best["prior"],
            "move_above": best["move_above"],
            **best["lists"][held],
        }
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="most recent N steps per list")
    parser.add_argument("--only", action="append", help="bundle names to replay")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("SECML_BENCH_OUT", "/tmp/secml-bench-quality")) / "replay.json",
    )
    parser.add_argument("--full", action="store_true", help="no default limit for any list")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/quality.md alone")
    parser.add_argument(
        "--no-stance", action="store_true", help="without the stance model (an ablation)"
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="the embedding model to replay with (another than the default leaves the docs alone)",
    )
    args = parser.parse_args()
    if not HISTORIES.is_dir():
        raise SystemExit(f"{HISTORIES} is missing: the replay needs ../shared/datasets")
    embedder = SentenceTransformerEmbedder(args.model)
    per_list, report = {}, {"model": embedder.name, "lists": {}, "started": time.ctime()}
    with tempfile.TemporaryDirectory() as scratch:
        repos = clone_all(Path(scratch))
        examples = all_examples(repos)  # the stance model is judged leave-one-list-out
        for name, repo in repos.items():
            if args.only and name not in args.only:
                continue
            print(f"== {name}", flush=True)
            with stance.using(None if args.no_stance else without(examples, name)):
                results, found, about = run_replay(
                    repo,
                    PATHS.get(name, []),
                    embedder,
                    limit=args.limit or (None if args.full else LIMITS.get(name)),
                    progress=False,
                )
            per_list[name] = results
            limited = args.limit or (None if args.full else LIMITS.get(name))
            report["lists"][name] = {
                **about,
                "repository": name,
                "limited": limited,
                "figures": found.to_dict(),
            }
            print(json.dumps(found.to_dict()), flush=True)
    pooled_steps = [
        r
        for name, rs in per_list.items()
        for r in rs
        if not report["lists"][name]["figures"]["by_year"]
    ]
    report["pooled"] = figures(pooled_steps).to_dict()
    rows = sweep(per_list)
    report["sweep"] = rows
    report["leave_one_list_out"] = leave_one_list_out(rows, list(per_list))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    with open(args.out.with_suffix(".pkl"), "wb") as f:
        pickle.dump(per_list, f)
    print(json.dumps({"pooled": report["pooled"], "lolo": report["leave_one_list_out"]}))
    if not args.no_docs and args.model == DEFAULT_MODEL:
        from bench.quality.replay_report import write_docs

        write_docs(report, DOCS / "quality.md", START, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
