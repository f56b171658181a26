"""The API through real HTTP against a uvicorn server on 127.0.0.1."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def client(server_url: str):
    with httpx.Client(base_url=server_url, timeout=30) as http:
        yield http


def test_health_and_docs(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health == {
        "status": "ok",
        "list_title": "Awesome SecML Papers",
        "papers": 27,
        "model": "all-MiniLM-L6-v2",
    }
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/search",
        "/papers",
        "/papers/{paper_id}",
        "/papers/{paper_id}/related",
        "/related",
        "/categorize",
        "/sections",
        "/health",
    ):
        assert path in paths


def test_search_contract_and_filters(client: httpx.Client) -> None:
    body = client.get(
        "/search", params={"q": "certified robustness via randomized smoothing", "k": 3}
    ).json()
    assert body["query"] == "certified robustness via randomized smoothing"
    first = body["results"][0]
    assert set(first) >= {
        "id",
        "title",
        "authors",
        "venue",
        "year",
        "url",
        "section",
        "abstract",
        "score",
    }
    assert "Randomized Smoothing" in first["title"]
    filtered = client.get(
        "/search",
        params={"q": "backdoor", "k": 50, "section": "Backdoor Attacks", "year_min": 2023},
    ).json()["results"]
    assert filtered and all(
        r["section"][1] == "Backdoor Attacks" and r["year"] >= 2023 for r in filtered
    )


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"q": ""}, 400, "empty"),
        ({"q": "x" * 1001}, 422, "at most 1000"),
        ({"q": "backdoor", "k": 0}, 422, "k:"),
        ({"q": "backdoor", "k": 101}, 422, "k:"),
        ({"q": "backdoor", "section": "Quantum Computing"}, 404, "no section matches"),
        ({"q": "backdoor", "year_min": "soon"}, 422, "year_min"),
    ],
)
def test_search_errors_are_4xx_with_a_sentence(client, params, status, fragment) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == status
    detail = response.json()["detail"]
    assert isinstance(detail, str) and fragment in detail


def test_papers_and_sections(client: httpx.Client) -> None:
    papers = client.get("/papers").json()
    assert len(papers["papers"]) == 27 and papers["warnings"] == []
    only = client.get("/papers", params={"section": "membership inference attacks"}).json()
    assert only["papers"] == []
    one = papers["papers"][0]
    assert client.get(f"/papers/{one['id']}").json() == one
    missing = client.get("/papers/no-such-paper")
    assert missing.status_code == 404 and "no-such-paper" in missing.json()["detail"]
    sections = client.get("/sections").json()["sections"]
    assert len(sections) == 11
    assert {"section": ["ML for Security Systems"], "count": 0} in sections


def test_related(client: httpx.Client) -> None:
    nc = next(
        p for p in client.get("/papers").json()["papers"] if p["title"].startswith("Neural Cleanse")
    )
    body = client.get(f"/papers/{nc['id']}/related", params={"k": 4}).json()
    assert body["paper"]["id"] == nc["id"] and len(body["results"]) == 4
    assert nc["id"] not in {r["id"] for r in body["results"]}
    assert client.get("/papers/nope/related").status_code == 404
    by_id = client.post("/related", json={"id": nc["id"], "k": 2}).json()
    assert len(by_id["results"]) == 2
    by_hand = client.post(
        "/related", json={"title": "Detecting backdoors in federated learning", "k": 3}
    ).json()
    assert by_hand["paper"] is None and len(by_hand["results"]) == 3
    assert client.post("/related", json={}).status_code == 400


def test_categorize(client: httpx.Client) -> None:
    body = client.post(
        "/categorize",
        json={"title": "Membership Inference Attacks against Machine Learning Models"},
    ).json()
    assert body["abstain"] is False
    assert body["suggestions"][0]["section"] == [
        "Security of ML Models",
        "Membership Inference Attacks",
    ]
    assert len(body["suggestions"]) == 8
    assert all(0 <= s["confidence"] <= 1 for s in body["suggestions"])
    off = client.post("/categorize", json={"title": "A recipe for sourdough bread"}).json()
    assert off["abstain"] is True
    bad = client.post("/categorize", json={"title": ""})
    assert bad.status_code == 422 and isinstance(bad.json()["detail"], str)
    assert (
        client.post(
            "/categorize", content=b"not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


def test_categorize_takes_tags(client: httpx.Client) -> None:
    """Tags are accepted (tests/test_entry_tags.py: how they place a paper); too many are a
    422 with a one-sentence detail."""
    body = {"title": "Attacks on deployed neural networks", "tags": ["LLM", "Defense"]}
    assert client.post("/categorize", json=body).status_code == 200
    too_many = client.post("/categorize", json={"title": "T", "tags": ["x"] * 21})
    assert too_many.status_code == 422 and isinstance(too_many.json()["detail"], str)


def test_page_is_served_offline(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    texts = [page.text]
    for asset in ("/static/app.js", "/static/style.css"):
        response = client.get(asset)
        assert response.status_code == 200
        texts.append(response.text)
    for text in texts:  # nothing is fetched from elsewhere: no CDN, no external font
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
        assert not re.search(r"""@import|url\(\s*["']?(https?:)?//""", text)
