"""Building the index (``build``) and serving it with the search page (``serve``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from secml_papers.service import output
from secml_papers.service.cli_shared import (
    JsonFlag,
    embedding_progress,
    loaded_index,
    open_library,
)


def build(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """Parse the list, embed what changed, and write the index."""
    library = open_library(ctx)
    with embedding_progress("embedding") as update:
        report = library.build(progress=update)
    if json_:
        output.print_json({**report.__dict__, "index_dir": str(library.store.directory)})
    else:
        output.out.print(Text(f"built: {report.summary()} -> {library.store.location}"))


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8000,
) -> None:
    """Run the HTTP API and the search page (building the index first if needed)."""
    import uvicorn

    from secml_papers.service.api import create_app

    library = open_library(ctx)
    index = loaded_index(ctx)
    library.fit_in_background()  # /search answers meanwhile; /categorize waits for the fit
    output.err.print(
        Text(
            f"serving {library.paper_list.title or library.source.name} "
            f"({len(index.papers)} papers, model {library.embedder.name}) at http://{host}:{port}/"
        )
    )
    uvicorn.run(create_app(library), host=host, port=port, log_level="warning")
