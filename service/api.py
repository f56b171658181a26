"""The FastAPI app factory; the library it serves is injected, nothing is built at import."""

from __future__ import annotations

import datetime
import logging
import re
from pathlib import Path
from typing import Annotated, Literal

import faiss
from fastapi import BackgroundTasks, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from secml_papers.corpus.errors import InputError, NotFound, SecmlError
from secml_papers.corpus.order import NEWEST_FIRST, section_orders
from secml_papers.corpus.records import Paper, PaperList
from secml_papers.index.search.paper_index import (
    DEFAULT_MODE,
    MAX_K,
    Filters,
    papers_in_section,
)
from secml_papers.service import limits, memory, querying, schemas
from secml_papers.service.admin import admin_router
from secml_papers.service.checkpr import MAX_NEW_EMBEDDINGS, check_pr
from secml_papers.service.comment import render
from secml_papers.service.errors_http import EXPENSIVE, LOOKUP, errors
from secml_papers.service.library import Library
from secml_papers.service.netguard import AddressPolicy
from secml_papers.service.security import BodyLimit, SecurityHeaders, cors_origins, scrub_paths

STATIC = Path(__file__).parent / "static"
# A list on GitHub, as a page (blob) or its raw file: its lines can be linked to.
_GITHUB_FILE = re.compile(
    r"^https://(?:github\.com/(?P<o1>[^/]+)/(?P<r1>[^/]+)/blob/(?P<p1>[^?#]+)"
    r"|raw\.githubusercontent\.com/(?P<o2>[^/]+)/(?P<r2>[^/]+)/(?P<p2>[^?#]+))$"
)
log = logging.getLogger("secml_papers.api")


class LinkChecksOff(SecmlError):
    """``check_links`` asked of a server whose operator has not turned link checks on."""

    status = 403


def create_app(library: Library, *, link_policy: AddressPolicy | None = None) -> FastAPI:
    """The HTTP API and search page over ``library`` (load its index before serving).

    ``link_policy`` is where check-pr's link checks may connect: public addresses only unless
    a test injects a resolver or stand-ins (never ``allow_private``, whatever the settings).
    """
    link_policy = link_policy or AddressPolicy()
    app = FastAPI(
        title="secml-papers",
        summary="Semantic search, related papers and categorisation over an awesome list.",
        version="0.1.0",
    )
    app.state.library = library
    searchers = querying.Searchers()  # a lone client's query skips the hand-off to a worker
    expensive = [limits.install(app, library.settings)]  # service/limits.py
    # One OpenMP thread per FAISS query: requests already run in parallel threads, and
    # OpenMP's spinning helpers only slow single queries down on a busy machine
    # (bench/performance/scale.py: 30 ms instead of 0.5 ms for 10k vectors on a shared 2-core box).
    faiss.omp_set_num_threads(1)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    origins = cors_origins(library.settings.cors_origins)
    if origins:  # off unless SECML_PAPERS_CORS_ORIGINS names the sites that may call it
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"])

    @app.exception_handler(SecmlError)
    async def domain_error(_: Request, err: SecmlError) -> JSONResponse:
        return JSONResponse({"detail": scrub_paths(str(err))}, status_code=err.status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        detail = "internal error: the server's log has the details"
        return JSONResponse({"detail": detail}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_sentence(err)}, status_code=422)

    @app.get(
        "/health", response_model=schemas.HealthPublic, tags=["service"], responses=errors(503)
    )
    def health() -> dict:
        papers = library.paper_list
        return {
            "status": "ok",
            "list_title": papers.title,
            "papers": len(papers.papers),
            "model": library.embedder.name,
        }

    @app.get(
        "/search",
        response_model=schemas.SearchPublic,
        tags=["search"],
        responses=errors(400, *LOOKUP),
    )
    async def search(
        request: Request,
        q: Annotated[str, schemas.SEARCH_QUERY],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        section: Annotated[str | None, Query(max_length=500)] = None,
        year_min: Annotated[int | None, schemas.YEAR_MIN] = None,
        year_max: Annotated[int | None, schemas.YEAR_MAX] = None,
        venue: Annotated[str | None, Query(max_length=200)] = None,
        mode: Annotated[Literal["hybrid", "dense", "bm25"], Query()] = DEFAULT_MODE,
    ) -> dict:
        filters = Filters(section or None, year_min, year_max, venue or None)
        alone = searchers.arrive(request.scope.get("client"))
        try:
            hits = await querying.search(library, q, k, filters, mode, alone)
        finally:
            searchers.leave()
        return {"query": q, "results": [querying.hit_dict(h) for h in hits]}

    @app.get(
        "/papers", response_model=schemas.PapersPublic, tags=["list"], responses=errors(*LOOKUP)
    )
    def papers(section: Annotated[str | None, Query(max_length=500)] = None) -> dict:
        parsed = library.paper_list
        chosen = parsed.papers
        if section:
            chosen = papers_in_section(chosen, parsed.sections, section)
        return {
            "papers": [p.to_dict() for p in chosen],
            "warnings": [w.to_dict() for w in parsed.warnings],
        }

    @app.get(
        "/papers/{paper_id}",
        response_model=schemas.PaperPublic,
        tags=["list"],
        responses=errors(*LOOKUP),
    )
    def paper(paper_id: str) -> dict:
        found = library.paper_list.by_id().get(paper_id)
        if found is None:
            raise NotFound(f"no paper has the id {paper_id!r}")
        return found.to_dict()

    @app.get(
        "/papers/{paper_id}/related",
        response_model=schemas.RelatedPublic,
        tags=["search"],
        responses=errors(*LOOKUP),
    )
    def related_to_entry(paper_id: str, k: Annotated[int, Query(ge=1, le=MAX_K)] = 10) -> dict:
        if paper_id not in library.paper_list.by_id():
            raise NotFound(f"no paper has the id {paper_id!r}")
        found, hits = library.index().related(paper_id, k)
        return {"paper": found.to_dict(), "results": [h.to_dict() for h in hits]}

    @app.post(
        "/related",
        response_model=schemas.RelatedPublic,
        tags=["search"],
        dependencies=expensive,
        responses=errors(400, 404, 422, *EXPENSIVE),
    )
    def related(body: schemas.RelatedRequest) -> dict:
        index = library.index()
        if body.id:
            found, hits = index.related(body.id, body.k)
            return {"paper": found.to_dict(), "results": [h.to_dict() for h in hits]}
        if not body.title:
            raise InputError("give the id of an entry, or the title (and abstract) of a paper")
        hits = index.related_to_text(body.title, body.abstract, body.k)
        return {"paper": None, "results": [h.to_dict() for h in hits]}

    @app.post(
        "/categorize",
        response_model=schemas.CategorizePublic,
        tags=["categorize"],
        dependencies=expensive,
        responses=errors(400, 422, *EXPENSIVE),
    )
    def categorize(body: schemas.CategorizeRequest) -> dict:
        if not body.title.strip():
            raise InputError("the title is empty")
        answer = library.categorizer.categorize(body.title, body.abstract, body.tags).to_dict()
        return _placed(answer, library.paper_list, body.year, library.settings.list_source)

    @app.post(
        "/check-pr",
        response_model=schemas.CheckPrPublic,
        tags=["categorize"],
        dependencies=expensive,
        responses=errors(400, 403, 422, *EXPENSIVE),
    )
    def check_pull_request(body: schemas.CheckPrRequest, after: BackgroundTasks) -> dict:
        if body.check_links and not library.settings.http_link_checks:
            raise LinkChecksOff(
                "link checks are off on this server: its operator has not enabled them "
                "(SECML_PAPERS_HTTP_LINK_CHECKS)"
            )
        report = check_pr(
            library,
            body.base,
            body.head,
            check_links=body.check_links,
            max_new_embeddings=MAX_NEW_EMBEDDINGS,
            max_added=library.settings.max_added_entries,
            max_changed=library.settings.max_changed_entries,
            link_policy=link_policy,
        )
        # the check's parses and evidence (some 250 MB on a 10,000-entry list) are freed by
        # now: their pages are handed back once the answer is sent (service/memory.py)
        after.add_task(memory.release)
        return {**report.to_dict(), "findings": report.findings(), "comment": render(report)}

    @app.get(
        "/sections", response_model=schemas.SectionsPublic, tags=["list"], responses=errors(503)
    )
    def sections() -> dict:
        return {"sections": [s.to_dict() for s in library.paper_list.sections]}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    # POST /admin/reload, off without a token; its 422 is the one-sentence model too
    app.include_router(admin_router(library), responses=errors(422))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _one_sentence(err: RequestValidationError) -> str:
    """FastAPI's list of validation errors as one readable sentence."""
    parts = []
    for problem in err.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "body"))
        parts.append(f"{where or 'request'}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"


def _placed(answer: dict, listed: PaperList, year: int | None, source: str | None) -> dict:
    """The categorisation with each suggestion's evidence named and the line it would go at.

    The position is the year order check-pr checks additions against (corpus/order.py): a
    paper goes at the top of its year's run, so a new paper tops a newest-first section.
    """
    by_id = listed.by_id()
    orders = section_orders(listed)
    heading_line = {s.path: s.line for s in listed.sections}
    entries: dict[tuple[str, ...], list[Paper]] = {}
    for paper in sorted(listed.papers, key=lambda p: p.line):
        entries.setdefault(paper.section, []).append(paper)
    placed_year = year if year is not None else datetime.date.today().year
    for suggestion in answer["suggestions"]:
        path = tuple(suggestion["section"])
        suggestion["evidence_entries"] = [
            {"id": p.id, "title": p.title, "year": p.year, "url": p.url, "line": p.line}
            for p in (by_id.get(i) for i in suggestion["evidence"])
            if p is not None
        ]
        position = _position(entries.get(path, []), orders.get(path), placed_year)
        if position is None and path in heading_line:
            position = ("after", heading_line[path])  # an empty section: below its heading
        if position is not None:
            where, line = position
            suggestion["position"] = {
                "line": line,
                "where": where,
                "order": orders.get(path),
                "year": placed_year,
                "url": _line_url(source, line),
            }
    return answer


def _position(entries: list[Paper], order: str | None, year: int) -> tuple[str, int] | None:
    """("before" | "after", line) among a section's entries (in list order); None when empty."""
    if not entries:
        return None
    if order is not None:
        mine = -year if order == NEWEST_FIRST else year
        for paper in entries:
            if (
                paper.year is not None
                and (-paper.year if order == NEWEST_FIRST else paper.year) >= mine
            ):
                return "before", paper.line
    return "after", entries[-1].line


def _line_url(source: str | None, line: int) -> str | None:
    """A link to ``line`` of the list when it is a file on GitHub; None otherwise (a local file,
    the bundled list, any other web address)."""
    found = _GITHUB_FILE.match(source or "")
    if found is None:
        return None
    owner = found["o1"] or found["o2"]
    repo = found["r1"] or found["r2"]
    rest = found["p1"] or found["p2"]
    return f"https://github.com/{owner}/{repo}/blob/{rest}#L{line}"
