"""The ``secml-papers`` command line; errors the user can cause print one line, exit 2."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.text import Text

from secml_papers.corpus.errors import SecmlError
from secml_papers.corpus.storage import read_list
from secml_papers.index.search.paper_index import DEFAULT_MODE, MAX_K, Filters, papers_in_section
from secml_papers.service import output
from secml_papers.service.checkpr import DEFAULT_FAIL_ON, check_pr, parse_fail_on
from secml_papers.service.comment import render
from secml_papers.service.gitfiles import git_read
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings, env_only

app = typer.Typer(
    name="secml-papers",
    help="Search an awesome list of papers, find related ones, and place new ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the contract's JSON shape.")]
KOption = Annotated[int, typer.Option("-k", min=1, max=MAX_K, help="How many results (1..100).")]


@app.callback()
def options(
    ctx: typer.Context,
    list_: Annotated[
        str | None,
        typer.Option(
            "--list",
            envvar="SECML_PAPERS_LIST",
            show_envvar=True,
            help="The list: a Markdown file or an http(s) URL, cached with its ETag "
            "(default: the bundled Awesome SecML Papers).",
        ),
    ] = None,
    abstracts: Annotated[
        str | None,
        typer.Option(
            "--abstracts",
            envvar="SECML_PAPERS_ABSTRACTS",
            show_envvar=True,
            help="A JSON Lines cache of abstracts to embed with the titles "
            "(default: the list's own file in the user data folder, which enrich fills).",
        ),
    ] = None,
    index_dir: Annotated[
        str | None,
        typer.Option(
            "--index-dir",
            envvar="SECML_PAPERS_INDEX_DIR",
            show_envvar=True,
            help="Where the index lives (default: a per-list folder in the user cache).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            envvar="SECML_PAPERS_MODEL",
            show_envvar=True,
            help="Embedding model name or directory (default: all-MiniLM-L6-v2).",
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="SECML_PAPERS_STORE",
            show_envvar=True,
            help="Where vectors live: faiss (files in the index directory, the default) or "
            "milvus (SECML_PAPERS_MILVUS_URI: a Milvus Lite .db file or http://host:19530).",
        ),
    ] = None,
    no_build: Annotated[
        bool, typer.Option("--no-build", help="Fail instead of building a missing or stale index.")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            envvar="SECML_PAPERS_OFFLINE",
            show_envvar=True,
            help="Never touch the network: a list URL comes from its cached copy.",
        ),
    ] = False,
) -> None:
    obj = ctx.ensure_object(dict)
    obj["settings"] = Settings.from_env(
        env_only(),
        list_source=list_,
        abstracts=abstracts,
        index_dir=index_dir,
        model=model,
        auto_build=not no_build,
        offline=offline or None,
        store=store,
    )


def _library(ctx: typer.Context) -> Library:
    obj = ctx.ensure_object(dict)
    if "library" not in obj:
        notify = lambda message: output.err.print(Text(message, style="dim"))  # noqa: E731
        obj["library"] = Library(obj["settings"], obj.get("embedder"), notify)
    return obj["library"]


@contextmanager
def _progress(label: str):
    """A progress bar on stderr for embedding; quiet when nothing needs embedding."""
    bar = output.progress_bar()
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done)

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()


def _index(ctx: typer.Context):
    with _progress("embedding") as update:
        return _library(ctx).index(progress=update)


@app.command()
def build(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """Parse the list, embed what changed, and write the index."""
    library = _library(ctx)
    with _progress("embedding") as update:
        report = library.build(progress=update)
    if json_:
        output.print_json({**report.__dict__, "index_dir": str(library.store.directory)})
    else:
        output.out.print(Text(f"built: {report.summary()} -> {library.store.location}"))


@app.command()
def papers(
    ctx: typer.Context,
    section: Annotated[
        str | None, typer.Option(help="Only this section (heading or path).")
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """The entries of the list, as the parser understood them."""
    parsed = _library(ctx).paper_list
    chosen = (
        papers_in_section(parsed.papers, parsed.sections, section) if section else parsed.papers
    )
    if json_:
        output.print_json(
            {
                "papers": [p.to_dict() for p in chosen],
                "warnings": [w.to_dict() for w in parsed.warnings],
            }
        )
    else:
        output.papers_table(parsed, chosen)


@app.command()
def sections(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """The section tree with entry counts, empty sections included."""
    parsed = _library(ctx).paper_list
    if json_:
        output.print_json({"sections": [s.to_dict() for s in parsed.sections]})
    else:
        output.sections_tree(parsed.title, parsed.sections)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A question in plain words.")],
    k: KOption = 10,
    section: Annotated[str | None, typer.Option(help="A heading or path prefix.")] = None,
    year_min: Annotated[int | None, typer.Option(help="Earliest year.")] = None,
    year_max: Annotated[int | None, typer.Option(help="Latest year.")] = None,
    venue: Annotated[str | None, typer.Option(help="Venue contains this text.")] = None,
    mode: Annotated[
        str, typer.Option(help="hybrid (BM25 + embeddings, the default), dense or bm25.")
    ] = DEFAULT_MODE,
    json_: JsonFlag = False,
) -> None:
    """The papers nearest to a question."""
    hits = _index(ctx).search(query, k, Filters(section, year_min, year_max, venue), mode)
    if json_:
        output.print_json({"query": query, "results": [h.to_dict() for h in hits]})
    else:
        output.hits_table(hits, f"search: {query}")


@app.command()
def related(
    ctx: typer.Context,
    paper: Annotated[str | None, typer.Argument(help="An id, or a title (or its start).")] = None,
    title: Annotated[str | None, typer.Option(help="A paper not in the list: its title.")] = None,
    abstract: Annotated[str | None, typer.Option(help="...and its abstract.")] = None,
    k: KOption = 10,
    json_: JsonFlag = False,
) -> None:
    """The entries nearest to one of the list, or to a title/abstract given by hand."""
    index = _index(ctx)
    if paper and not title:
        found, hits = index.related(paper, k)
        data, label = {"paper": found.to_dict()}, f"related to: {found.title}"
    elif title and not paper:
        found, hits = None, index.related_to_text(title, abstract, k)
        data, label = {"paper": None}, f"related to: {title}"
    else:
        raise SecmlError("give either a paper of the list or --title (with --abstract)")
    if json_:
        output.print_json({**data, "results": [h.to_dict() for h in hits]})
    else:
        output.hits_table(hits, label)


@app.command()
def categorize(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="The new paper's title.")],
    abstract: Annotated[str | None, typer.Option(help="Its abstract, if known.")] = None,
    top: Annotated[int, typer.Option(min=1, help="Sections to show (JSON has all).")] = 5,
    json_: JsonFlag = False,
) -> None:
    """Every section that can hold entries, ranked for a new paper."""
    if not title.strip():
        raise SecmlError("the title is empty")
    library = _library(ctx)
    _index(ctx)
    result = library.categorizer.categorize(title, abstract)
    if json_:
        output.print_json(result.to_dict())
    else:
        output.categorization(result, title, top, library.paper_list.by_id())


@app.command("check-pr")
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
    format_: Annotated[str, typer.Option("--format", help="markdown (the comment) or json.")] = (
        "markdown"
    ),
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
    json_: JsonFlag = False,
) -> None:
    """The pull-request report for two versions of the list; exit 1 on findings, 2 on errors."""
    if format_ not in ("markdown", "json"):
        raise SecmlError(f"--format must be markdown or json, not {format_!r}")
    wanted = parse_fail_on(fail_on)
    if git:
        base_text, head_text = git_read(base, path), git_read(head, path)
    elif head is None:
        raise SecmlError("give two list files, BASE and HEAD (or --git BASE_REF [HEAD_REF])")
    else:
        base_text, head_text = read_list(base).text, read_list(head).text
    library = _library(ctx)
    _index(ctx)
    report = check_pr(library, base_text, head_text, check_links=check_links_)
    if json_ or format_ == "json":
        output.print_json(report.to_dict())
    else:
        sys.stdout.write(render(report))
    counts = report.findings()
    if any(counts[name] for name in wanted):
        raise typer.Exit(1)


@app.command()
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

    library = _library(ctx)
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


@app.command("eval")
def eval_command(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """How well categorisation (leave-one-out) and search (known items) work on this list."""
    from secml_papers.service.evaluation import evaluate_list, print_report

    _index(ctx)
    say = lambda message: output.err.print(Text(message, style="dim"))  # noqa: E731
    report = evaluate_list(_library(ctx), say)
    if json_:
        output.print_json(report)
    else:
        print_report(report)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8000,
) -> None:
    """Run the HTTP API and the search page (building the index first if needed)."""
    import uvicorn

    from secml_papers.service.api import create_app

    library = _library(ctx)
    index = _index(ctx)
    library.fit_in_background()  # /search answers meanwhile; /categorize waits for the fit
    output.err.print(
        Text(
            f"serving {library.paper_list.title or library.source.name} "
            f"({len(index.papers)} papers, model {library.embedder.name}) at http://{host}:{port}/"
        )
    )
    uvicorn.run(create_app(library), host=host, port=port, log_level="warning")


def main() -> None:
    """Entry point: one clear line and exit code 2 for every error a user can cause."""
    try:
        app()
    except SecmlError as err:
        sys.stderr.write(f"error: {err}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
