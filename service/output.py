"""How the CLI prints: readable tables on a terminal, the contract's JSON with ``--json``.

Text from the list goes into rich ``Text`` objects, never into markup, so a title holding
``[bold]`` prints as written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from secml_papers.corpus.records import Paper, PaperList, Section
from secml_papers.index.categorize.categorizer import Categorization
from secml_papers.index.search.paper_index import Hit

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def section_label(path: Sequence[str]) -> str:
    return " › ".join(path) if path else "(top of the list)"


def hits_table(hits: Sequence[Hit], title: str) -> None:
    if not hits:
        out.print(Text(f"{title}: no results"))
        return
    table = Table(title=Text(title), show_lines=False, expand=False)
    for name, style in (
        ("#", "dim"),
        ("title", "bold"),
        ("authors", ""),
        ("venue", ""),
        ("year", ""),
        ("section", "cyan"),
        ("score", ""),
    ):
        table.add_column(
            name,
            style=style,
            overflow="fold",
            justify="right" if name in ("#", "year", "score") else "left",
        )
    for rank, hit in enumerate(hits, start=1):
        p = hit.paper
        table.add_row(
            str(rank),
            Text(p.title),
            Text(p.authors),
            Text(p.venue or ""),
            str(p.year or ""),
            Text(section_label(p.section[-2:])),
            f"{hit.score:.3f}",
        )
    out.print(table)


def papers_table(parsed: PaperList, papers: Sequence[Paper]) -> None:
    table = Table(title=Text(f"{parsed.title or 'list'}: {len(papers)} entries"))
    for name in ("line", "id", "title", "authors", "venue", "year", "section"):
        table.add_column(name, overflow="fold", style="dim" if name in ("line", "id") else "")
    for p in papers:
        table.add_row(
            str(p.line),
            p.id,
            Text(p.title),
            Text(p.authors),
            Text(p.venue or ""),
            str(p.year or ""),
            Text(section_label(p.section)),
        )
    out.print(table)
    print_warnings(parsed)


def print_warnings(parsed: PaperList) -> None:
    for w in parsed.warnings:
        err.print(Text(f"warning: line {w.line}: {w.message}", style="yellow"))


def sections_tree(title: str | None, sections: Sequence[Section]) -> None:
    out.print(Text(title or "(untitled list)", style="bold"))
    for s in sections:
        indent = "  " * len(s.path)
        count = f"{s.count} entr{'y' if s.count == 1 else 'ies'}"
        note = "" if s.can_hold_entries else "  (has subsections)"
        line = Text(f"{indent}{s.path[-1]}  ")
        line.append(count, style="dim" if s.count == 0 else "green")
        line.append(note, style="dim")
        out.print(line)


def categorization(
    result: Categorization, title: str, limit: int, papers: Mapping[str, Paper]
) -> None:
    verdict = "unsure: abstains" if result.abstain else "suggests the first section"
    table = Table(title=Text(f"{title!r}: {verdict}"))
    for name in ("#", "section", "confidence", "evidence"):
        table.add_column(name, overflow="fold")
    for rank, s in enumerate(result.suggestions[:limit], start=1):
        table.add_row(
            str(rank),
            Text(section_label(s.section)),
            f"{s.confidence:.2f}",
            Text("; ".join(_short(papers[i].title) for i in s.evidence) or "(no entries yet)"),
        )
    out.print(table)


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def progress_bar() -> Progress:
    """A transient bar on stderr: what is being done, done of total, time so far."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
