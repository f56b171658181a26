"""Building the index (``build``) and serving it with the search page (``serve``)."""

from __future__ import annotations

import importlib.util
from enum import StrEnum
from typing import Annotated

import typer
from rich.text import Text

from secml_papers.corpus.errors import InputError
from secml_papers.service import memory, output
from secml_papers.service.cli_shared import (
    JsonFlag,
    embedding_progress,
    loaded_index,
    open_library,
)


class Http(StrEnum):
    auto = "auto"
    h11 = "h11"
    httptools = "httptools"


class Loop(StrEnum):
    auto = "auto"
    asyncio = "asyncio"
    uvloop = "uvloop"


def build(
    ctx: typer.Context,
    json_: JsonFlag = False,
    fit: Annotated[
        bool,
        typer.Option(
            help="Also fit the categorizer and keep it beside the index, so the next start "
            "answers /categorize at once (on a long list the fit takes minutes)."
        ),
    ] = True,
) -> None:
    """Parse the list, embed what changed, and write the index."""
    library = open_library(ctx)
    with embedding_progress("embedding") as update:
        report = library.build(progress=update)
    if fit:
        if not json_:
            output.err.print(Text("fitting the categorizer for the next start..."))
        _ = library.categorizer  # kept in the generation's start cache (library_cache.py)
    if json_:
        output.print_json({**report.__dict__, "index_dir": str(library.store.directory)})
    else:
        output.out.print(Text(f"built: {report.summary()} -> {library.store.location}"))


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8000,
    http: Annotated[
        Http,
        typer.Option(help="HTTP parser: auto is httptools when installed (faster), else h11."),
    ] = Http.auto,
    loop: Annotated[
        Loop,
        typer.Option(help="Event loop: auto is uvloop when installed (faster), else asyncio."),
    ] = Loop.auto,
) -> None:
    """Run the HTTP API and the search page (building the index first if needed)."""
    import uvicorn

    from secml_papers.service.api import create_app

    memory.limit_arenas()  # before any thread allocates: reloads then hand memory back
    memory.fix_mmap_threshold()
    http_choice = _available(http.value, "httptools")  # before the model and index load
    loop_choice = _available(loop.value, "uvloop")
    library = open_library(ctx)
    # only its size is kept: a local holding the index would keep the first one alive (its
    # vectors, FAISS index and papers) for as long as the server runs, past every reload
    papers = len(loaded_index(ctx).papers)
    library.fit_in_background()  # /search answers meanwhile; /categorize waits for the fit
    output.err.print(
        Text(
            f"serving {library.paper_list.title or library.source.name} "
            f"({papers} papers, model {library.embedder.name}) at http://{host}:{port}/"
        )
    )
    uvicorn.run(
        create_app(library),
        host=host,
        port=port,
        http=http_choice,
        loop=loop_choice,
        log_level="warning",
        access_log=False,  # at this log level it printed nothing, but still ran per request
    )


def _available(choice: str, module: str) -> str:
    """``choice``, or one clear error when it names a module that is not installed."""
    if choice == module and importlib.util.find_spec(module) is None:
        option = "--http" if module == "httptools" else "--loop"
        raise InputError(f"{option} {module}: {module} is not installed (pip install {module})")
    return choice
