"""The reader's commands: what the list holds (``papers``, ``sections``) and what is near a
question or a paper (``search``, ``related``)."""

from __future__ import annotations

from typing import Annotated

import typer

from secml_papers.corpus.errors import SecmlError
from secml_papers.index.search.paper_index import DEFAULT_MODE, Filters, papers_in_section
from secml_papers.service import output
from secml_papers.service.cli_shared import JsonFlag, KOption, loaded_index, open_library


def papers(
    ctx: typer.Context,
    section: Annotated[
        str | None, typer.Option(help="Only this section (heading or path).")
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """The entries of the list, as the parser understood them."""
    parsed = open_library(ctx).paper_list
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


def sections(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """The section tree with entry counts, empty sections included."""
    parsed = open_library(ctx).paper_list
    if json_:
        output.print_json({"sections": [s.to_dict() for s in parsed.sections]})
    else:
        output.sections_tree(parsed.title, parsed.sections)


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
    hits = loaded_index(ctx).search(query, k, Filters(section, year_min, year_max, venue), mode)
    if json_:
        output.print_json({"query": query, "results": [h.to_dict() for h in hits]})
    else:
        output.hits_table(hits, f"search: {query}")


def related(
    ctx: typer.Context,
    paper: Annotated[str | None, typer.Argument(help="An id, or a title (or its start).")] = None,
    title: Annotated[str | None, typer.Option(help="A paper not in the list: its title.")] = None,
    abstract: Annotated[str | None, typer.Option(help="...and its abstract.")] = None,
    k: KOption = 10,
    json_: JsonFlag = False,
) -> None:
    """The entries nearest to one of the list, or to a title/abstract given by hand."""
    index = loaded_index(ctx)
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
