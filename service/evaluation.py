"""`secml-papers eval`: how well categorisation and retrieval work on the list in use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.table import Table
from rich.text import Text

from secml_papers.index.evaluation.evaluate import leave_one_out, scores
from secml_papers.index.evaluation.known_item import CUTOFF, known_item, queries_for
from secml_papers.service import output
from secml_papers.service.library import Library

Say = Callable[[str], None]


def evaluate_list(library: Library, say: Say = lambda _: None) -> dict:
    """The figures of `eval`, with a statement of what was measured on how many entries."""
    index = library.index()
    categorizer = library.categorizer
    say(f"categorisation: leave-one-out over {len(categorizer.labelled)} entries")
    found = leave_one_out(categorizer)
    cat = scores(found, len(categorizer.candidates), categorizer.abstain_below).to_dict()
    say(f"retrieval: known-item search for {len(index.papers)} entries")
    queries, source = queries_for(index.papers)
    retrieval = known_item(
        index.papers,
        index.vectors,
        library.embedder,
        queries,
        progress=lambda done, total: say(f"  {done}/{total} queries"),
    )
    with_abstract = sum(bool(p.abstract) for p in index.papers)
    measured = (
        f"Categorisation: each of the {cat['entries']} entries in a section that can hold "
        f"entries was hidden in turn and placed among {cat['sections']} sections by the rest "
        "(the combiner refitted without the entry's fold); its own section is the truth. "
        f"Confidence below {cat['threshold']} abstains. Retrieval: each of the "
        f"{len(index.papers)} entries was searched for with one query ({source}; notes are "
        f"taken out of what is searched); MRR@{CUTOFF} and hit@{CUTOFF} say where it ranked. "
        f"{with_abstract} of {len(index.papers)} entries have an abstract."
    )
    replay = replay_figures(library, say)
    return {
        **({"replay": replay} if replay else {}),
        "list": library.paper_list.title or library.source.name,
        "model": library.embedder.name,
        "measured": measured,
        "categorisation": cat,
        "retrieval": {
            "queries": len(queries),
            "query_source": source,
            "modes": [r.to_dict() for r in retrieval],
        },
    }


REPLAY_STEPS = 100  # the most recent steps of the list's history that eval replays


def replay_figures(library: Library, say: Say) -> dict | None:
    """When the list is a file in a git repository: what check-pr would have said on its
    most recent additions (``secml-papers replay`` has every option), else None."""
    from secml_papers.corpus.errors import InputError
    from secml_papers.corpus.history import repository_of
    from secml_papers.service.replay import run_replay

    found = repository_of(Path(library.source.location))
    if found is None:
        return None
    repo, name = found
    say(f"placement: replaying the last {REPLAY_STEPS} steps of {name}'s git history")
    try:
        _, figures, about = run_replay(repo, [name], library.embedder, limit=REPLAY_STEPS)
    except InputError as err:
        say(f"  no replay: {err}")
        return None
    return {**about, "figures": figures.to_dict()}


def print_report(report: dict) -> None:
    """The figures as two small tables and the reliability bins, for a terminal."""
    cat = report["categorisation"]
    out = output.out
    out.print(Text(f"{report['list']} (model {report['model']})", style="bold"))
    table = Table(title=Text("categorisation, leave-one-out"), show_header=True)
    for name in ("entries", "sections", "leaf top-1", "leaf top-3", "top-level top-1"):
        table.add_column(name, justify="right")
    for name in ("top-level top-3", "abstains", "precision answered", "ECE"):
        table.add_column(name, justify="right")
    precision = cat["precision_answered"]
    table.add_row(
        str(cat["entries"]),
        str(cat["sections"]),
        f"{cat['top1']:.3f}",
        f"{cat['top3']:.3f}",
        f"{cat['top_level_top1']:.3f}",
        f"{cat['top_level_top3']:.3f}",
        f"{cat['abstention']:.3f} (< {cat['threshold']})",
        "-" if precision is None else f"{precision:.3f}",
        f"{cat['ece']:.3f}",
    )
    out.print(table)
    bins = Table(title=Text("reliability (top-1 confidence)"))
    for name in ("confidence", "entries", "mean confidence", "accuracy"):
        bins.add_column(name, justify="right")
    for b in cat["reliability"]:
        if b["count"]:
            low, high = b["bin"]
            bins.add_row(
                f"{low:.1f}-{high:.1f}",
                str(b["count"]),
                f"{b['confidence']:.3f}",
                f"{b['accuracy']:.3f}",
            )
    out.print(bins)
    ret = report["retrieval"]
    search = Table(title=Text(f"known-item search, {ret['query_source']}"))
    for name in ("mode", f"MRR@{CUTOFF}", f"hit@{CUTOFF}"):
        search.add_column(name, justify="right")
    for m in ret["modes"]:
        search.add_row(m["mode"], f"{m[f'mrr@{CUTOFF}']:.3f}", f"{m[f'hit@{CUTOFF}']:.3f}")
    out.print(search)
    out.print(Text(report["measured"], style="dim"))
    if "replay" in report:
        from secml_papers.index.evaluation.replay_stats import ReplayFigures
        from secml_papers.service.replay import print_figures

        print_figures(ReplayFigures.from_dict(report["replay"]["figures"]), report["replay"])
