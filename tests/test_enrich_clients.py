"""Each abstract source's client against a local stub speaking the API's real format."""

from __future__ import annotations

import doctest
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

import secml_papers.corpus.polite
import secml_papers.corpus.sources_crossref
import secml_papers.corpus.sources_openalex
import secml_papers.corpus.titles
from secml_papers.corpus.polite import PoliteClient, Politeness, SourceError
from secml_papers.corpus.sources_arxiv import ArxivSource
from secml_papers.corpus.sources_base import Target
from secml_papers.corpus.sources_crossref import CrossrefSource
from secml_papers.corpus.sources_openalex import OpenAlexSource
from secml_papers.corpus.sources_s2 import SemanticScholarSource
from tests import enrich_stubs
from tests.enrich_stubs import (
    Slow,
    arxiv_error_feed,
    arxiv_feed,
    crossref_work,
    json_response,
    openalex_search,
    openalex_work,
    s2_match,
    s2_not_found,
    s2_paper,
)

stub_server, stub = enrich_stubs.stub_server, enrich_stubs.stub  # the stub's fixtures
ABSTRACT = "We show that deep networks can be fooled by small, carefully chosen perturbations."


class Recorder:
    """An injectable sleep that records what it was asked to wait, and waits not at all."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(server: HTTPServer, name: str = "test", sleep=None, **politeness: float) -> PoliteClient:
    polite = Politeness(**{"interval": 0.0, "max_retries": 2, "timeout": 5.0, **politeness})
    return PoliteClient(
        name, server.url_for("/"), polite, sleep=sleep or Recorder(), jitter=lambda: 0.5
    )


@pytest.mark.parametrize(
    "module",
    [
        secml_papers.corpus.polite,
        secml_papers.corpus.titles,
        secml_papers.corpus.sources_openalex,
        secml_papers.corpus.sources_crossref,
    ],
)
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


# --- the polite client -------------------------------------------------------------------


def test_429_with_retry_after_waits_as_told_then_succeeds(stub: HTTPServer) -> None:
    stub.expect_ordered_request("/x").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "2"})
    )
    stub.expect_ordered_request("/x").respond_with_json({"ok": True})
    sleep = Recorder()
    with client(stub, sleep=sleep) as c:
        assert c.get("/x").json() == {"ok": True}
    assert sleep.waits == [2.0]  # Retry-After, not the backoff
    assert len(stub.log) == 2


def test_503_with_a_real_short_retry_after_really_waits(stub: HTTPServer) -> None:
    stub.expect_ordered_request("/x").respond_with_response(
        Response("", status=503, headers={"Retry-After": "1"})
    )
    stub.expect_ordered_request("/x").respond_with_json({"ok": True})
    with client(stub, sleep=time.sleep) as c:
        started = time.monotonic()
        assert c.get("/x").status_code == 200
        assert time.monotonic() - started >= 0.95


def test_500_then_success_backs_off_with_jitter(stub: HTTPServer) -> None:
    stub.expect_ordered_request("/x").respond_with_data("boom", status=500)
    stub.expect_ordered_request("/x").respond_with_data("boom", status=502)
    stub.expect_ordered_request("/x").respond_with_json({"ok": True})
    sleep = Recorder()
    with client(stub, sleep=sleep, backoff=1.0) as c:
        assert c.get("/x").status_code == 200
    # exponential: 1 s then 2 s, each times (0.5 + jitter) with the injected jitter 0.5
    assert sleep.waits == [1.0, 2.0]


def test_persistent_500_gives_up_after_the_retries(stub: HTTPServer) -> None:
    stub.expect_request("/x").respond_with_data("boom", status=500)
    with client(stub, max_retries=2) as c, pytest.raises(SourceError, match="HTTP 500"):
        c.get("/x")
    assert len(stub.log) == 3


def test_timeout_is_retried_then_reported(stub: HTTPServer) -> None:
    slow = Slow(1.0, lambda: json_response({"late": True}))
    stub.expect_request("/slow").respond_with_handler(slow)
    with client(stub, timeout=0.2, max_retries=1) as c, pytest.raises(SourceError, match="timed"):
        c.get("/slow")
    slow.wait()


def test_a_retry_after_beyond_max_wait_gives_up_at_once(stub: HTTPServer) -> None:
    stub.expect_request("/x").respond_with_response(
        Response("", status=429, headers={"Retry-After": "3600"})
    )
    sleep = Recorder()
    with client(stub, sleep=sleep, max_wait=60) as c, pytest.raises(SourceError, match="3600"):
        c.get("/x")
    assert sleep.waits == [] and len(stub.log) == 1


def test_requests_are_spaced_by_the_interval(stub: HTTPServer) -> None:
    stub.expect_request("/x").respond_with_json({})
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    polite = Politeness(interval=3.0)
    with PoliteClient("arxiv", stub.url_for("/"), polite, sleep=sleep, clock=lambda: now[0]) as c:
        for _ in range(3):
            c.get("/x")
    assert waits == [3.0, 3.0]


def test_a_404_is_an_answer_not_a_failure(stub: HTTPServer) -> None:
    stub.expect_request("/x").respond_with_data("Resource not found.", status=404)
    with client(stub) as c:
        assert c.get("/x").status_code == 404
    assert len(stub.log) == 1


# --- arXiv -------------------------------------------------------------------------------


def test_arxiv_batches_ids_and_reads_the_atom_feed(stub: HTTPServer) -> None:
    feed = arxiv_feed(
        [
            (
                "1706.06083v4",
                "Towards Deep Learning Models Resistant to Adversarial Attacks",
                ABSTRACT,
            ),
            (
                "cs/0112017v1",
                "An Old Paper &amp; Its Title",
                "Old style identifiers still work here.",
            ),
        ]
    )
    stub.expect_request("/api/query").respond_with_data(feed, content_type="application/atom+xml")
    with client(stub) as c:
        found = ArxivSource(c).by_ids(["1706.06083", "cs/0112017", "2101.99999"])
    assert set(found) == {"1706.06083", "cs/0112017"}
    madry = found["1706.06083"]
    assert madry.title == "Towards Deep Learning Models Resistant to Adversarial Attacks"
    assert madry.abstract == ABSTRACT and madry.ids["arxiv_id"] == "1706.06083"
    (request,) = [r for r, _ in stub.log]
    assert request.args["id_list"] == "1706.06083,cs/0112017,2101.99999"
    assert request.args["max_results"] == "3"


def test_arxiv_error_feed_and_malformed_xml(stub: HTTPServer) -> None:
    stub.expect_ordered_request("/api/query").respond_with_data(
        arxiv_error_feed("incorrect id format for 1234"), status=400
    )
    stub.expect_ordered_request("/api/query").respond_with_data("<feed><entry>", status=200)
    with client(stub) as c:
        source = ArxivSource(c)
        assert source.by_ids(["1234"]) == {}
        with pytest.raises(SourceError, match="malformed"):
            source.by_ids(["1706.06083"])


# --- Semantic Scholar --------------------------------------------------------------------


def test_s2_by_doi_sends_the_key_and_reads_ids(stub: HTTPServer) -> None:
    paper = s2_paper("abc123", "Neural Cleanse", ABSTRACT, doi="10.1109/SP.2019.00031")
    stub.expect_request(
        "/graph/v1/paper/DOI:10.1109/sp.2019.00031", headers={"x-api-key": "secret"}
    ).respond_with_json(paper)
    polite = Politeness(interval=0.0)
    with PoliteClient("s2", stub.url_for("/"), polite, headers={"x-api-key": "secret"}) as c:
        found = SemanticScholarSource(c).by_id(
            Target("x", "Neural Cleanse", None, "10.1109/sp.2019.00031")
        )
    assert found is not None and found.abstract == ABSTRACT
    assert found.ids == {"s2_id": "abc123", "doi": "10.1109/sp.2019.00031"}
    (request,) = [r for r, _ in stub.log]
    assert request.args["fields"] == "title,abstract,externalIds"


def test_s2_null_abstract_404_and_arxiv_prefix(stub: HTTPServer) -> None:
    stub.expect_request("/graph/v1/paper/ARXIV:1706.06083").respond_with_json(
        s2_paper("p1", "Towards Deep Learning Models Resistant to Adversarial Attacks", None)
    )
    stub.expect_request("/graph/v1/paper/DOI:10.1/none").respond_with_response(
        s2_not_found("DOI:10.1/none")
    )
    with client(stub) as c:
        s2 = SemanticScholarSource(c)
        found = s2.by_id(Target("x", "t", "1706.06083", None))
        assert found is not None and found.abstract is None
        assert s2.by_id(Target("y", "t", None, "10.1/none")) is None


def test_s2_title_match_and_malformed_json(stub: HTTPServer) -> None:
    stub.expect_ordered_request("/graph/v1/paper/search/match").respond_with_json(
        s2_match(s2_paper("p2", "Certified Robustness via Randomized Smoothing", ABSTRACT))
    )
    stub.expect_ordered_request("/graph/v1/paper/search/match").respond_with_data(
        '{"data": [', content_type="application/json"
    )
    stub.expect_ordered_request("/graph/v1/paper/search/match").respond_with_response(
        json_response({"error": "Title match not found"}, status=404)
    )
    with client(stub) as c:
        s2 = SemanticScholarSource(c)
        hit = s2.match_title("Certified Adversarial Robustness via Randomized Smoothing")
        assert hit is not None and hit.ids["s2_id"] == "p2"
        with pytest.raises(SourceError, match="malformed JSON"):
            s2.match_title("anything")
        assert s2.match_title("no such paper") is None
    assert (
        stub.log[0][0].args["query"] == "Certified Adversarial Robustness via Randomized Smoothing"
    )


# --- OpenAlex ----------------------------------------------------------------------------


def test_openalex_by_doi_rebuilds_the_inverted_index(stub: HTTPServer) -> None:
    work = openalex_work(
        "W2963", "BadNets: Evaluating Backdooring Attacks", ABSTRACT, "10.1109/x.1"
    )
    stub.expect_request("/works/doi:10.1109/x.1").respond_with_json(work)
    polite = Politeness(interval=0.0)
    with PoliteClient("openalex", stub.url_for("/"), polite, params={"mailto": "me@x.org"}) as c:
        found = OpenAlexSource(c).by_doi("10.1109/x.1")
    assert found is not None and found.abstract == ABSTRACT
    assert found.ids == {"openalex_id": "W2963", "doi": "10.1109/x.1"}
    assert stub.log[0][0].args["mailto"] == "me@x.org"


def test_openalex_search_and_missing_abstract(stub: HTTPServer) -> None:
    works = [openalex_work("W1", "Some Other Paper", ABSTRACT), openalex_work("W2", "Target", None)]
    stub.expect_request("/works").respond_with_json(openalex_search(works))
    with client(stub) as c:
        found = OpenAlexSource(c).search_title("Target")
    assert [w.ids["openalex_id"] for w in found] == ["W1", "W2"]
    assert found[1].abstract is None
    assert stub.log[0][0].args["search"] == "Target"


# --- Crossref ----------------------------------------------------------------------------


def test_crossref_strips_jats_and_identifies_itself(stub: HTTPServer) -> None:
    jats = (
        "<jats:title>Abstract</jats:title><jats:p>We show that <jats:italic>deep</jats:italic> "
        "networks can be fooled by small, carefully chosen perturbations.</jats:p>"
    )
    stub.expect_request("/works/10.1145/3133956.3134057").respond_with_json(
        crossref_work("10.1145/3133956.3134057", "Towards Evaluating Robustness", jats)
    )
    stub.expect_request("/works/10.1/missing").respond_with_data("Resource not found.", status=404)
    agent = {"User-Agent": "secml-papers/0.1 (mailto:me@x.org)"}
    polite = Politeness(interval=0.0)
    with PoliteClient(
        "crossref", stub.url_for("/"), polite, headers=agent, params={"mailto": "me@x.org"}
    ) as c:
        crossref = CrossrefSource(c)
        found = crossref.by_doi("10.1145/3133956.3134057")
        assert crossref.by_doi("10.1/missing") is None
    assert found is not None and found.abstract == ABSTRACT
    request = stub.log[0][0]
    assert request.headers["User-Agent"] == agent["User-Agent"]
    assert request.args["mailto"] == "me@x.org"


def test_crossref_without_abstract(stub: HTTPServer) -> None:
    stub.expect_request("/works/10.1/x").respond_with_json(crossref_work("10.1/x", "T", None))
    with client(stub) as c:
        found = CrossrefSource(c).by_doi("10.1/x")
    assert found is not None and found.abstract is None


# --- the same trials for each of the four clients ----------------------------------------

TITLE = "Towards Deep Learning Models Resistant to Adversarial Attacks"


def _arxiv_ok(abstract: str | None) -> Response:
    return Response(arxiv_feed([("1706.06083v4", TITLE, abstract or "")]))


CLIENTS = {
    # name: (path on the stub, source class, lookup, good answer, malformed body)
    "arxiv": (
        "/api/query",
        ArxivSource,
        lambda s: s.by_ids(["1706.06083"]).get("1706.06083"),
        _arxiv_ok,
        "<feed><entry>",
    ),
    "s2": (
        "/graph/v1/paper/DOI:10.1/madry",
        SemanticScholarSource,
        lambda s: s.by_id(Target("x", TITLE, None, "10.1/madry")),
        lambda a: json_response(s2_paper("p", TITLE, a)),
        '{"paperId": "p", "title":',
    ),
    "openalex": (
        "/works/doi:10.1/madry",
        OpenAlexSource,
        lambda s: s.by_doi("10.1/madry"),
        lambda a: json_response(openalex_work("W7", TITLE, a, "10.1/madry")),
        "{'id': 'W7'}",
    ),
    "crossref": (
        "/works/10.1/madry",
        CrossrefSource,
        lambda s: s.by_doi("10.1/madry"),
        lambda a: json_response(crossref_work("10.1/madry", TITLE, a and f"<jats:p>{a}</jats:p>")),
        "<html>Service Unavailable</html>",
    ),
}


@pytest.mark.parametrize("name", CLIENTS)
def test_each_client_rides_out_429_and_500(stub: HTTPServer, name: str) -> None:
    path, source, lookup, good, _ = CLIENTS[name]
    stub.expect_ordered_request(path).respond_with_response(
        Response("", status=429, headers={"Retry-After": "2"})
    )
    stub.expect_ordered_request(path).respond_with_data("oops", status=500)
    stub.expect_ordered_request(path).respond_with_response(good(ABSTRACT))
    sleep = Recorder()
    with client(stub, name, sleep=sleep, backoff=1.0) as c:
        found = lookup(source(c))
    assert found is not None and found.title == TITLE and found.abstract == ABSTRACT
    assert sleep.waits == [2.0, 2.0]  # Retry-After, then the second backoff step (1 s * 2)
    assert len(stub.log) == 3


@pytest.mark.parametrize("name", CLIENTS)
def test_each_client_reports_malformed_answers_timeouts_and_empty_abstracts(
    stub: HTTPServer, name: str
) -> None:
    path, source, lookup, good, malformed = CLIENTS[name]

    slow = Slow(0.8, lambda: good(ABSTRACT))
    stub.expect_ordered_request(path).respond_with_data(malformed, content_type="application/json")
    stub.expect_ordered_request(path).respond_with_handler(slow)
    stub.expect_ordered_request(path).respond_with_response(good(None))
    with client(stub, name, timeout=0.3, max_retries=0) as c:
        with pytest.raises(SourceError, match=r"malformed|unexpected"):
            lookup(source(c))
        with pytest.raises(SourceError, match="timed out"):
            lookup(source(c))
        found = lookup(source(c))
    slow.wait()
    assert found is not None and found.title == TITLE and found.abstract is None
