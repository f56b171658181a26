"""``secml-papers enrich``: wire settings, the four API clients, the cache file and the console.

The cache is the list's abstracts file (``--abstracts`` or the per-list default); every found
abstract is appended to it at once (flush + fsync), every entry no source had goes to the
misses file beside it, so an interrupted run resumes where it stopped and a rerun does not ask
again about known misses (unless ``--retry-missing``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from rich.table import Table
from rich.text import Text

from secml_papers.corpus.abstracts import match_imports, parse_records
from secml_papers.corpus.enrich import SOURCES, Enricher, Summary
from secml_papers.corpus.errors import InputError
from secml_papers.corpus.ids import arxiv_id, doi, normalise_title
from secml_papers.corpus.polite import PoliteClient, Politeness, user_agent
from secml_papers.corpus.records import Paper
from secml_papers.corpus.sources_arxiv import ArxivSource
from secml_papers.corpus.sources_base import Target
from secml_papers.corpus.sources_crossref import CrossrefSource
from secml_papers.corpus.sources_openalex import OpenAlexSource
from secml_papers.corpus.sources_s2 import SemanticScholarSource
from secml_papers.corpus.storage import append_jsonl, misses_path, read_jsonl, read_text_file
from secml_papers.service import output
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings


def open_sources(settings: Settings, stack: ExitStack, sleep: Callable[[float], None] = time.sleep):
    """The four sources, each with its own polite client, closed when ``stack`` closes."""
    contact = {"mailto": settings.contact} if settings.contact else {}

    agent = {"User-Agent": user_agent(settings.contact)}  # every API is told who asks

    def client(name: str, url: str, interval: float, headers=None, **kwargs) -> PoliteClient:
        polite = Politeness(interval, settings.http_timeout, settings.retries)
        headers = {**agent, **(headers or {})}
        return stack.enter_context(
            PoliteClient(name, url, polite, sleep=sleep, headers=headers, **kwargs)
        )

    key = {"x-api-key": settings.s2_api_key} if settings.s2_api_key else {}
    return {
        "arxiv": ArxivSource(client("arxiv", settings.arxiv_url, settings.arxiv_interval)),
        "s2": SemanticScholarSource(
            client("s2", settings.s2_url, settings.s2_interval, headers=key)
        ),
        "openalex": OpenAlexSource(
            client("openalex", settings.openalex_url, settings.openalex_interval, params=contact)
        ),
        "crossref": CrossrefSource(
            client("crossref", settings.crossref_url, settings.crossref_interval, params=contact)
        ),
    }


def fetch_abstracts(settings: Settings, papers: Sequence[Paper]) -> dict[str, str]:
    """The abstracts of ``papers`` by paper id, found as ``enrich`` finds them (the same
    sources, order and title check); nothing is written to the list's cache. For check-pr's
    added papers (``--fetch-abstracts``, ``abstract_fetcher``)."""
    targets = [Target(p.id, p.title, arxiv_id(p.url), doi(p.url)) for p in papers]
    found: dict[str, str] = {}
    with ExitStack() as stack:
        enricher = Enricher(
            **open_sources(settings, stack),
            on_found=lambda record: found.__setitem__(
                str(record["paper_id"]), str(record["abstract"])
            ),
            on_missing=lambda _record: None,
            notify=lambda message: output.err.print(Text(f"warning: {message}")),
        )
        enricher.run(targets)
    return found


def abstract_fetcher(settings: Settings) -> Callable[[Sequence[Paper]], dict[str, str]]:
    """check-pr's ``fetch_abstracts``; refused at once when offline, before any work."""
    if settings.offline:
        raise InputError("offline: check-pr cannot fetch abstracts; drop --fetch-abstracts")

    def fetch(papers: Sequence[Paper]) -> dict[str, str]:
        say = output.err.print
        what = "1 added paper" if len(papers) == 1 else f"{len(papers)} added papers"
        say(Text(f"fetching the abstracts of {what} ({', '.join(SOURCES)})"))
        found = fetch_abstracts(settings, papers)
        say(Text(f"found {len(found)} of {len(papers)}; the others are placed by their titles"))
        return found

    return fetch


def targets_for(library: Library, retry_missing: bool) -> tuple[list[Target], dict[str, int]]:
    """Entries without an abstract, less known misses; and how many were skipped, and why."""
    known: set[str] = set()
    if not retry_missing:
        path = misses_path(library.settings.abstracts_path())
        for record in read_jsonl(path, missing_ok=True)[0]:
            known.add(normalise_title(str(record.get("title") or "")))
    targets, seen = [], set()
    skipped = {"had_abstract": 0, "known_missing": 0}
    for paper in library.paper_list.papers:
        key = normalise_title(paper.title)  # by title: lists carry wrong links, ids are shared
        if paper.abstract:
            skipped["had_abstract"] += 1
        elif key in known:
            skipped["known_missing"] += 1
        elif key not in seen:  # the same title twice (two sections): asked once
            seen.add(key)
            targets.append(Target(paper.id, paper.title, arxiv_id(paper.url), doi(paper.url)))
    return targets, skipped


def run_enrich(
    library: Library,
    limit: int | None = None,
    retry_missing: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Summary, int, dict[str, int]]:
    settings = library.settings
    if settings.offline:
        raise InputError("offline: enrich can only import abstracts from a file, with --from FILE")
    path = settings.abstracts_path()
    targets, skipped = targets_for(library, retry_missing)
    if limit is not None:
        skipped["over_limit"] = max(0, len(targets) - limit)
        targets = targets[:limit]
    bar = output.progress_bar()
    task = bar.add_task("enriching", total=len(targets))

    def progress(summary: Summary, _total: int) -> None:
        per_source = " ".join(f"{n} {summary.sources[n].found}" for n in SOURCES)
        bar.update(task, completed=summary.done, description=f"found: {per_source}")

    with ExitStack() as stack:
        sources = open_sources(settings, stack, sleep)
        enricher = Enricher(
            **sources,
            on_found=lambda record: append_jsonl(path, [record]),
            on_missing=lambda record: append_jsonl(misses_path(path), [record]),
            notify=lambda message: output.err.print(Text(f"warning: {message}")),
            progress=progress,
        )
        with bar if targets else ExitStack():
            try:
                enricher.run(targets)
            except KeyboardInterrupt:
                bar.stop()
                print_summary(enricher.summary, len(targets), skipped, path)
                output.err.print(
                    Text(
                        f"interrupted: the abstracts found so far are saved in {path}; "
                        "run enrich again to resume"
                    )
                )
                raise
    return enricher.summary, len(targets), skipped


def summary_json(summary: Summary, asked: int, skipped: dict[str, int], path: Path) -> dict:
    return {
        "abstracts": str(path),
        "asked": asked,
        "found": summary.found,
        "not_found": summary.not_found,
        "mismatched": summary.mismatched,
        "errors": summary.errors,
        "skipped": skipped,
        "sources": {name: asdict(stats) for name, stats in summary.sources.items()},
        "mismatches": [{"title": t, "returned": r, "source": s} for t, r, s in summary.mismatches],
        "dropped": summary.dropped,
    }


def print_summary(summary: Summary, asked: int, skipped: dict[str, int], path: Path) -> None:
    out = output.out
    out.print(
        Text(
            f"enrich: {asked} entries asked: {summary.found} found, {summary.not_found} not "
            f"found, {summary.mismatched} mismatched, {summary.errors} errors -> {path}"
        )
    )
    notes = [f"{skipped['had_abstract']} already had an abstract"]
    if skipped.get("known_missing"):
        notes.append(f"{skipped['known_missing']} known missing (--retry-missing asks again)")
    if skipped.get("over_limit"):
        notes.append(f"{skipped['over_limit']} left for later (--limit)")
    out.print(Text("skipped: " + ", ".join(notes)))
    table = Table(show_edge=False, pad_edge=False)
    for column in ("source", "found", "not found", "no abstract", "mismatched", "errors"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for name, s in summary.sources.items():
        dropped = " (dropped)" if name in summary.dropped else ""
        row = (s.found, s.not_found, s.no_abstract, s.mismatched, s.errors)
        table.add_row(name + dropped, *map(str, row))
    out.print(table)
    for title, returned, source in summary.mismatches:
        out.print(Text(f"mismatch (not stored): {title!r}: {source} answered {returned!r}"))


def run_import(library: Library, from_: str) -> dict:
    """``enrich --from FILE``: append the file's abstracts that match entries of the list."""
    source = Path(from_)
    records = parse_records(read_text_file(source, "the abstracts file"), source.name)
    result = match_imports(library.paper_list.papers, records, f"file:{source.name}")
    path = library.settings.abstracts_path()
    append_jsonl(path, result.records)
    return {
        "abstracts": str(path),
        "from": str(source),
        "records": len(records),
        "imported": len(result.records),
        "mismatched": len(result.mismatched),
        "already": result.already,
        "unmatched": result.unmatched,
        "mismatches": [{"title": t, "returned": r} for t, r in result.mismatched],
    }


def print_import(report: dict) -> None:
    output.out.print(
        Text(
            f"imported {report['imported']} abstracts from {report['from']} "
            f"({report['records']} records with an abstract): {report['imported']} matched "
            f"entries of the list, {report['already']} matched entries that already had one, "
            f"{report['mismatched']} had another title (not stored), {report['unmatched']} "
            f"matched no entry -> {report['abstracts']}"
        )
    )
