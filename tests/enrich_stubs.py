"""Local stand-ins for arXiv, Semantic Scholar, OpenAlex and Crossref, in their real formats.

Each builder returns a body shaped like the API's documented answer; the ``stub`` fixture is
a pytest-httpserver bound to 127.0.0.1 that the clients are pointed at. Nothing here reaches
the internet.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from xml.sax.saxutils import escape

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ATOM_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
    '  <link href="http://arxiv.org/api/query" rel="self" type="application/atom+xml"/>\n'
    "  <title>arXiv Query: id_list</title>\n"
    "  <updated>2024-06-01T00:00:00-04:00</updated>\n"
)


def arxiv_feed(entries: list[tuple[str, str, str]]) -> str:
    """An Atom feed as ``/api/query?id_list=...`` answers: (versioned id, title, summary)."""
    body = [ATOM_HEAD, f"  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>\n"]
    for ident, title, summary in entries:
        # arXiv wraps long titles and summaries over several indented lines
        wrapped_title = escape(title).replace(" ", "\n  ", 1)
        body.append(
            "  <entry>\n"
            f"    <id>http://arxiv.org/abs/{ident}</id>\n"
            "    <updated>2021-01-01T00:00:00Z</updated>\n"
            f"    <title>{wrapped_title}</title>\n"
            f"    <summary>  {escape(summary)}\n</summary>\n"
            "    <author><name>A. Author</name></author>\n"
            f'    <link href="http://arxiv.org/abs/{ident}" rel="alternate" type="text/html"/>\n'
            '    <arxiv:primary_category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>\n'
            "  </entry>\n"
        )
    body.append("</feed>\n")
    return "".join(body)


def arxiv_error_feed(message: str) -> str:
    return (
        ATOM_HEAD
        + "  <entry>\n    <id>http://arxiv.org/api/errors#incorrect_id_format</id>\n"
        + f"    <title>Error</title>\n    <summary>{escape(message)}</summary>\n  </entry>\n"
        + "</feed>\n"
    )


def s2_paper(
    paper_id: str,
    title: str,
    abstract: str | None,
    doi: str | None = None,
    arxiv: str | None = None,
) -> dict:
    external = {"CorpusId": 12345}
    if doi:
        external["DOI"] = doi
    if arxiv:
        external["ArXiv"] = arxiv
    return {"paperId": paper_id, "externalIds": external, "title": title, "abstract": abstract}


def s2_match(paper: dict, score: float = 180.5) -> dict:
    return {"data": [{**paper, "matchScore": score}]}


def inverted_index(text: str) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, word in enumerate(text.split()):
        index.setdefault(word, []).append(position)
    return index


def openalex_work(work_id: str, title: str, abstract: str | None, doi: str | None = None) -> dict:
    return {
        "id": f"https://openalex.org/{work_id}",
        "doi": f"https://doi.org/{doi}" if doi else None,
        "title": title,
        "display_name": title,
        "abstract_inverted_index": inverted_index(abstract) if abstract else None,
    }


def openalex_search(works: list[dict]) -> dict:
    return {"meta": {"count": len(works), "page": 1, "per_page": 5}, "results": works}


def crossref_work(doi: str, title: str, jats_abstract: str | None) -> dict:
    message = {"DOI": doi, "title": [title], "type": "proceedings-article", "publisher": "ACM"}
    if jats_abstract is not None:
        message["abstract"] = jats_abstract
    return {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": message}


def json_response(data: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, content_type="application/json", headers=headers
    )


def s2_not_found(ident: str) -> Response:
    return json_response({"error": f"Paper with id {ident} not found"}, status=404)


@pytest.fixture(scope="session")
def stub_server() -> Iterator[HTTPServer]:
    """A threaded stub server on 127.0.0.1 (threaded, so a slow handler cannot block others)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def stub(stub_server: HTTPServer) -> Iterator[HTTPServer]:
    """The stub server with no handlers and an empty log, for one test."""
    stub_server.clear()
    yield stub_server
    stub_server.clear()


def queried(server: HTTPServer, path_prefix: str) -> list[Request]:
    """The requests the stub received under ``path_prefix``."""
    return [request for request, _ in server.log if request.path.startswith(path_prefix)]


class FakeApis:
    """The four APIs behind one stub server, under /arxiv, /s2, /openalex and /crossref.

    Fill the dictionaries with what each API knows; ``script[source]`` holds responses to
    give first (a 429, a 500, malformed JSON...) before answering normally.
    """

    def __init__(self) -> None:
        self.arxiv: dict[str, tuple[str, str]] = {}  # id -> (title, summary)
        self.s2: dict[str, dict] = {}  # "DOI:10.x/y" or "ARXIV:id" -> paper
        self.s2_match: dict[str, dict] = {}  # query -> paper
        self.openalex: dict[str, dict] = {}  # doi -> work
        self.openalex_search: dict[str, list[dict]] = {}  # query -> works
        self.crossref: dict[str, dict] = {}  # doi -> answer
        self.script: dict[str, list[Response]] = {}

    def install(self, server: HTTPServer) -> dict[str, str]:
        """Route every request to :meth:`handle`; the base URL of each API on the stub."""
        server.expect_request(re.compile(r"^/.*$")).respond_with_handler(self.handle)
        return {
            name: server.url_for(f"/{name}") for name in ("arxiv", "s2", "openalex", "crossref")
        }

    def env(self, server: HTTPServer) -> dict[str, str]:
        """Environment variables pointing the CLI at this stub, with no waiting between requests."""
        urls = self.install(server)
        env = {f"SECML_PAPERS_{n.upper()}_URL": u for n, u in urls.items()}
        env |= {f"SECML_PAPERS_{n.upper()}_INTERVAL": "0" for n in urls}
        return env | {"SECML_PAPERS_RETRIES": "1", "SECML_PAPERS_CONTACT": "tests@example.org"}

    def handle(self, request: Request) -> Response:
        source, _, rest = request.path.lstrip("/").partition("/")
        scripted = self.script.get(source)
        if scripted:
            return scripted.pop(0)
        rest = "/" + rest
        if source == "arxiv" and rest == "/api/query":
            ids = request.args.get("id_list", "").split(",")
            entries = [(f"{i}v1", *self.arxiv[i]) for i in ids if i in self.arxiv]
            return Response(arxiv_feed(entries), content_type="application/atom+xml")
        if source == "s2" and rest == "/graph/v1/paper/search/match":
            paper = self.s2_match.get(request.args.get("query", ""))
            if paper is None:
                return json_response({"error": "Title match not found"}, status=404)
            return json_response(s2_match(paper))
        if source == "s2" and rest.startswith("/graph/v1/paper/"):
            ident = rest.removeprefix("/graph/v1/paper/")
            paper = self.s2.get(ident)
            return json_response(paper) if paper else s2_not_found(ident)
        if source == "openalex" and rest.startswith("/works/doi:"):
            work = self.openalex.get(rest.removeprefix("/works/doi:"))
            return json_response(work) if work else json_response({"error": "404"}, status=404)
        if source == "openalex" and rest == "/works":
            works = self.openalex_search.get(request.args.get("search", ""), [])
            return json_response(openalex_search(works))
        if source == "crossref" and rest.startswith("/works/"):
            work = self.crossref.get(rest.removeprefix("/works/"))
            if work is None:
                return Response("Resource not found.", status=404, content_type="text/plain")
            return json_response(work)
        return Response(f"no such endpoint: {request.path}", status=400)

    def asked(self, server: HTTPServer, source: str) -> list[str]:
        """What each request to ``source`` asked about (ids, DOIs, titles), in order."""
        out = []
        for request, _ in server.log:
            name, _, rest = request.path.lstrip("/").partition("/")
            if name != source:
                continue
            if "id_list" in request.args:
                out.extend(request.args["id_list"].split(","))
            else:
                out.append(request.args.get("query") or request.args.get("search") or rest)
        return out


class Slow:
    """A handler that answers late; ``wait()`` at the end of a test keeps its late request
    from landing in the next test's log."""

    def __init__(self, seconds: float, answer: Callable[[], Response]) -> None:
        self.seconds, self.answer = seconds, answer
        self.pending = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    def __call__(self, _: Request) -> Response:
        with self._lock:
            self.pending += 1
            self._idle.clear()
        try:
            time.sleep(self.seconds)
            return self.answer()
        finally:
            with self._lock:
                self.pending -= 1
                if not self.pending:
                    self._idle.set()

    def wait(self) -> None:
        self._idle.wait(timeout=10)
        time.sleep(0.05)  # let the server log the request it just answered
