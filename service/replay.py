"""`secml-papers replay`: what check-pr would have said on every past addition to a list.

Runs ``index/evaluation/replay.py`` over the first-parent history of a git repository
(``corpus/history.py``) with a progress bar on stderr, then prints the figures as a table
(or the JSON of ``replay_json``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text
from threadpoolctl import threadpool_limits

from secml_papers.corpus.abstracts import list_with_abstracts
from secml_papers.corpus.errors import InputError
from secml_papers.corpus.history import check_repository, default_paths, steps, versions
from secml_papers.corpus.records import PaperList
from secml_papers.index.embedding.embedder import Embedder
from secml_papers.index.evaluation.replay import CachedEmbedder, StepResult, by_year, replay_step
from secml_papers.index.evaluation.replay_stats import ReplayFigures, figures
from secml_papers.service import output


def run_replay(
    repo: Path,
    paths: Sequence[str],
    embedder: Embedder,
    *,
    since: str | None = None,
    limit: int | None = None,
    progress: bool = True,
    abstracts: Sequence[dict] = (),
    abstracts_file: str | None = None,
) -> tuple[list[StepResult], ReplayFigures, dict]:
    """Every step of ``repo``'s history that changed ``paths``, replayed; with the figures and
    a description of what was replayed (repository, files, steps, time).

    ``abstracts``: records (``enrich``'s cache) attached to every version's entries, so each
    step reads BASE as an enriched list and each added paper as ``check-pr
    --fetch-abstracts`` would; ``abstracts_file`` names where they came from."""
    top = check_repository(repo)
    paths = tuple(paths) or default_paths(top)
    chosen = steps(top, paths, since=since, limit=limit)
    if not chosen:
        raise InputError(f"no commit of {repo} since {since} changed {', '.join(paths)}")
    cached = CachedEmbedder(embedder)
    results: list[StepResult] = []
    start = time.perf_counter()
    last = None
    bar = output.progress_bar()
    bar.disable = not progress
    # one BLAS thread: a step's fit is many small solves, which two threads make no faster on
    # a quiet machine and several times slower beside any other work (perf_replay.py)
    with bar, threadpool_limits(limits=1, user_api="blas"):
        task = bar.add_task(f"replaying {top.name}", total=len(chosen))
        read: PaperList | None = None  # the step before's HEAD with its abstracts
        for i, (step, base, head) in enumerate(versions(top, paths, chosen)):
            # a step's BASE is the step before's HEAD (``versions``): abstracts attached once
            base = read if read is not None else list_with_abstracts(base, abstracts)
            read = list_with_abstracts(head, abstracts)
            results.append(replay_step(i, step.commit, step.date, base, read, cached))
            last = head
            bar.advance(task)
    if not any(r.additions for r in results):
        raise InputError(f"no step of {repo}'s history adds entries to {', '.join(paths)}")
    yearly = last is not None and by_year(last.papers)
    found = figures(results, cached.embedded, yearly)
    about = {
        "repository": str(top),
        "paths": list(paths),
        "first": chosen[0].date,
        "last": chosen[-1].date,
        "model": embedder.name,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "abstracts": abstracts_file,
    }
    return results, found, about


def replay_json(results: Sequence[StepResult], found: ReplayFigures, about: dict) -> dict:
    return {
        **about,
        "figures": found.to_dict(),
        "steps": [
            {
                "commit": r.commit,
                "date": r.date,
                "entries": r.entries,
                "seconds": round(r.seconds, 3),
                "added": [
                    {
                        "title": a.title,
                        "section": list(a.section),
                        "kind": a.kind,
                        "verdict": a.verdict,
                        "suggested": [list(s) for s in a.blind],
                        "confidence": round(a.confidence, 4),
                        "knn": [list(s) for s in a.knn],
                        "duplicates": list(a.flagged),
                        "with_abstract": a.with_abstract,
                    }
                    for a in r.additions
                ],
                "moved": [
                    {"title": m.title, "from": list(m.source), "to": list(m.target)}
                    for m in r.moves
                ],
                "removed_duplicates": [
                    {"title": d.title, "kept": list(d.kept)} for d in r.removals
                ],
            }
            for r in results
        ],
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def print_figures(found: ReplayFigures, about: dict) -> None:
    """The figures as one table: the categoriser beside the kNN vote, then the history."""
    f = found
    out = output.out
    out.print(
        Text(
            f"{about['repository']} ({', '.join(about['paths'])}), "
            f"{about['first'][:10]} to {about['last'][:10]}"
        )
    )
    out.print(
        Text(
            f"{f.steps} steps, {f.adding_steps} add entries ({f.additions} added); "
            f"{f.judged} additions to existing sections of steps that offer a choice"
        )
    )
    if f.by_year:
        out.print(
            Text(
                "The list's sections are years: there is no topical placement to judge; "
                "the figures below say only how often the year was guessed."
            )
        )
    table = Table(title=Text("placement"), expand=False)
    for name in ("", "check-pr's categoriser", "kNN vote (k=10)"):
        table.add_column(Text(name), justify="left" if not name else "right")
    rows = [
        ("blind top-1", f.ours.top1, f.knn.top1),
        ("blind top-3", f.ours.top3, f.knn.top3),
        ("ECE", f.ours.ece, f.knn.ece),
        ("verdict: placement ok", f.ours.ok, f.knn.ok),
        ("verdict: move it (false alarm)", f.ours.move, f.knn.move),
        ("verdict: unsure", f.ours.unsure, f.knn.unsure),
    ]
    for name, ours, knn in rows:
        fmt = (lambda v: "–" if v is None else f"{v:.3f}") if name == "ECE" else _pct
        table.add_row(Text(name), fmt(ours), fmt(knn))
    out.print(table)
    out.print(
        Text(
            f"New or empty sections: {f.new_or_empty} additions, blind top-1 "
            f"{_pct(f.new_or_empty_top1)}, top-3 {_pct(f.new_or_empty_top3)}"
            " (a vote cannot name them)."
        )
    )
    out.print(
        Text(
            f"Misplacements the history shows: {f.misplacements}; check-pr said move there at "
            f"addition for {f.misplacements_caught}; the later section was the blind top "
            "suggestion "
            f"for {f.misplacements_top1} (kNN vote: {f.misplacements_knn_top1}) and among the "
            f"three for {f.misplacements_top3} (kNN vote: {f.misplacements_knn_top3})."
        )
    )
    out.print(
        Text(
            f"Duplicates the history shows: {f.duplicates}; flagged at addition: "
            f"{f.duplicates_flagged}."
        )
    )
    if about.get("abstracts"):
        out.print(
            Text(
                f"Abstracts from {about['abstracts']}: {f.judged_with_abstract} of the "
                f"{f.judged} judged additions were read with one, as were BASE's entries "
                "that have one."
            )
        )
    per = "–" if f.seconds_per_step is None else f"{f.seconds_per_step:.2f} s"
    out.print(
        Text(
            f"Time: {about['wall_seconds']} s in all, {per} per adding step; "
            f"{f.embedded} distinct texts embedded ({about['model']})."
        )
    )
