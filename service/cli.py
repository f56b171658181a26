"""The ``secml-papers`` command line; errors the user can cause print one line, exit 2.

This module holds the app, its global options and the one error handler (``main``); the
commands live by audience: ``cli_search`` (readers), ``cli_maintain`` (maintainers),
``cli_serve`` (build and serve), with what they share in ``cli_shared``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from secml_papers.corpus.errors import SecmlError
from secml_papers.service import cli_maintain, cli_search, cli_serve
from secml_papers.service.settings import Settings, env_only

app = typer.Typer(
    name="secml-papers",
    help="Search an awesome list of papers, find related ones, and place new ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            envvar="SECML_PAPERS_ENGINE",
            show_envvar=True,
            help="How the model runs: onnx (float32 on ONNX Runtime, the default), onnx-int8 "
            "(its int8 quantization: about twice as fast, slightly different vectors) or torch.",
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
        engine=engine,
    )


# Every command, in the order ``--help`` lists them. A new command is a function in the
# cli_* module of its audience (``replay``, a pull-request tool: cli_maintain), plus a line here.
app.command()(cli_serve.build)
app.command()(cli_search.papers)
app.command()(cli_search.sections)
app.command()(cli_search.search)
app.command()(cli_search.related)
app.command()(cli_maintain.categorize)
app.command("check-pr")(cli_maintain.check_pr_command)
app.command()(cli_maintain.enrich)
app.command("eval")(cli_maintain.eval_command)
app.command("replay")(cli_maintain.replay_command)
app.command()(cli_serve.serve)


def main() -> None:
    """Entry point: one clear line and exit code 2 for every error a user can cause."""
    try:
        app()
    except SecmlError as err:
        sys.stderr.write(f"error: {err}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
