"""The maintainer's commands: placing a new paper (``categorize``), checking a pull request
(``check-pr``), filling the abstracts cache (``enrich``) and measuring quality (``eval``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from secml_papers.corpus.errors import SecmlError
from secml_papers.corpus.storage import read_list
from secml_papers.index.embedding.embedder import SentenceTransformerEmbedder
from secml_papers.service import output
from secml_papers.service.annotations import github_output, save_report
from secml_papers.service.checkpr import DEFAULT_FAIL_ON, check_pr, parse_fail_on
from secml_papers.service.cli_shared import JsonFlag, loaded_index, open_library, say_dim
from secml_papers.service.comment import render
from secml_papers.service.gitfiles import git_read
from secml_papers.service.netguard import AddressPolicy


def categorize(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="The new paper's title.")],
    abstract: Annotated[str | None, typer.Option(help="Its abstract, if known.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(help="A tag the list would give it, as its badges do (repeatable)."),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Sections to show (JSON has all).")] = 5,
    json_: JsonFlag = False,
) -> None:
    """Every section that can hold entries, ranked for a new paper."""
    if not title.strip():
        raise SecmlError("the title is empty")
    library = open_library(ctx)
    loaded_index(ctx)
    result = library.categorizer.categorize(title, abstract, tag or ())
    if json_:
        output.print_json(result.to_dict())
    else:
        output.categorization(result, title, top, library.paper_list.by_id())


def check_pr_command(
    ctx: typer.Context,
    base: Annotated[str, typer.Argument(help="BASE list file (with --git: a git ref).")],
    head: Annotated[
        str | None,
        typer.Argument(help="HEAD list file (with --git: a ref; default the work tree)."),
    ] = None,
    git: Annotated[bool, typer.Option("--git", help="Read BASE and HEAD from git refs.")] = False,
    path: Annotated[
        str, typer.Option(help="With --git: the list's path in the repo.")
    ] = "README.md",
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="markdown (the comment), json, or github (annotations on stdout, the report "
            "in $GITHUB_STEP_SUMMARY).",
        ),
    ] = "markdown",
    report_dir: Annotated[
        Path | None,
        typer.Option(help="Also write the comment (comment.md) and report.json here."),
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            help="Exit 1 on these findings: duplicates, malformed, placement, order, style, "
            "structure, links (comma-separated), any, or none."
        ),
    ] = ",".join(DEFAULT_FAIL_ON),
    check_links_: Annotated[
        bool, typer.Option("--check-links", help="Request each added entry's URL (HEAD, then GET).")
    ] = False,
    allow_private_links: Annotated[
        bool,
        typer.Option(
            "--allow-private-links",
            envvar="SECML_PAPERS_ALLOW_PRIVATE_LINKS",
            show_envvar=True,
            help="With --check-links: also request loopback and private-network addresses "
            "(refused by default).",
        ),
    ] = False,
    fetch_abstracts_: Annotated[
        bool,
        typer.Option(
            "--fetch-abstracts",
            help="Fetch the added papers' abstracts (arXiv, Semantic Scholar, OpenAlex, "
            "Crossref, as enrich does) and place each with its abstract.",
        ),
    ] = False,
    json_: JsonFlag = False,
) -> None:
    """The pull-request report for two versions of the list; exit 1 on findings, 2 on errors."""
    if format_ not in ("markdown", "json", "github"):
        raise SecmlError(f"--format must be markdown, json or github, not {format_!r}")
    wanted = parse_fail_on(fail_on)
    if git:
        base_text, head_text = git_read(base, path), git_read(head, path)
    elif head is None:
        raise SecmlError("give two list files, BASE and HEAD (or --git BASE_REF [HEAD_REF])")
    else:
        base_text, head_text = read_list(base).text, read_list(head).text
    library = open_library(ctx)
    fetcher = None
    if fetch_abstracts_:
        from secml_papers.service.enrichment import abstract_fetcher

        fetcher = abstract_fetcher(library.settings)
    loaded_index(ctx)
    private = allow_private_links or library.settings.allow_private_links
    policy = AddressPolicy(allow_private=private)
    report = check_pr(
        library,
        base_text,
        head_text,
        check_links=check_links_,
        link_policy=policy,
        fetch_abstracts=fetcher,
    )
    if report_dir is not None:
        save_report(report, report_dir)
    if json_ or format_ == "json":
        output.print_json(report.to_dict())
    elif format_ == "github":  # annotations name the list's file as the repository has it
        sys.stdout.write(github_output(report, path if git else (head or "")))
    else:
        sys.stdout.write(render(report))
    counts = report.findings()
    if any(counts[name] for name in wanted):
        raise typer.Exit(1)


def enrich(
    ctx: typer.Context,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Import abstracts from a local JSON or JSON Lines file."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Ask about at most N entries this run.")
    ] = None,
    retry_missing: Annotated[
        bool, typer.Option("--retry-missing", help="Ask again about entries no source had.")
    ] = False,
    json_: JsonFlag = False,
) -> None:
    """Fetch missing abstracts (arXiv, Semantic Scholar, OpenAlex, Crossref) into the cache."""
    from secml_papers.service import enrichment

    library = open_library(ctx)
    if from_ is not None:
        report = enrichment.run_import(library, from_)
        if json_:
            output.print_json(report)
        else:
            enrichment.print_import(report)
        return
    summary, asked, skipped = enrichment.run_enrich(library, limit, retry_missing)
    path = library.settings.abstracts_path()
    if json_:
        output.print_json(enrichment.summary_json(summary, asked, skipped, path))
    else:
        enrichment.print_summary(summary, asked, skipped, path)


def eval_command(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """How well categorisation (leave-one-out) and search (known items) work on this list."""
    from secml_papers.service.evaluation import evaluate_list, print_report

    loaded_index(ctx)
    report = evaluate_list(open_library(ctx), say_dim)
    if json_:
        output.print_json(report)
    else:
        print_report(report)


def replay_command(
    ctx: typer.Context,
    repo: Annotated[
        Path, typer.Argument(help="A git repository holding the list (default: here).")
    ] = Path("."),
    path: Annotated[
        list[str] | None,
        typer.Option(
            "--path",
            help="The list's file in the repository, or a glob such as "
            "'collection/paper/*/*.md' (a list in several files); repeatable "
            "(default: README.md).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only steps since this date (git's --since, e.g. 2024-01-01)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the most recent N steps.")] = None,
    json_: JsonFlag = False,
) -> None:
    """What check-pr would have said on each past addition in the list's git history.

    With the global --abstracts FILE (enrich's cache), entries and added papers are read with
    their abstracts, as check-pr --fetch-abstracts reads a pull request to an enriched list."""
    from secml_papers.corpus.storage import read_abstracts
    from secml_papers.service.replay import print_figures, replay_json, run_replay

    settings = ctx.obj["settings"]
    records: list[dict] = []
    if settings.abstracts is not None:
        records, skipped = read_abstracts(settings.abstracts)
        for message in skipped:
            output.err.print(Text(f"warning: {message}"))
    embedder = SentenceTransformerEmbedder(
        settings.model, engine=settings.engine, cache_dir=settings.resolved_cache_dir()
    )
    results, found, about = run_replay(
        repo,
        path or [],
        embedder,
        since=since,
        limit=limit,
        progress=sys.stderr.isatty(),
        abstracts=records,
        abstracts_file=None if settings.abstracts is None else str(settings.abstracts),
    )
    if json_:
        output.print_json(replay_json(results, found, about))
    else:
        print_figures(found, about)
