"""What every command module of the CLI uses: the common options and the ``Library`` kept in
the typer context, so one invocation opens the list, the model and the index once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.text import Text

from secml_papers.index.build import Progress
from secml_papers.index.search.paper_index import MAX_K, PaperIndex
from secml_papers.service import output
from secml_papers.service.library import Library

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the contract's JSON shape.")]
KOption = Annotated[int, typer.Option("-k", min=1, max=MAX_K, help="How many results (1..100).")]


def say_dim(message: str) -> None:
    """A progress or warning line on stderr, dimmed, so it never mixes with the output."""
    output.err.print(Text(message, style="dim"))


def open_library(ctx: typer.Context) -> Library:
    """The library for this invocation's settings (or the tests' ``obj["embedder"]``)."""
    obj = ctx.ensure_object(dict)
    if "library" not in obj:
        obj["library"] = Library(obj["settings"], obj.get("embedder"), say_dim)
    return obj["library"]


@contextmanager
def embedding_progress(label: str) -> Iterator[Progress]:
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


def loaded_index(ctx: typer.Context) -> PaperIndex:
    """The index, loaded, or built first (with a progress bar) when missing or stale."""
    with embedding_progress("embedding") as update:
        return open_library(ctx).index(progress=update)
