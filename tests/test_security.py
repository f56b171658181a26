"""Hostile or careless requests against a real server: headers, body cap, CORS, error text."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.security import MAX_BODY_BYTES, PAGE_POLICY
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory):
    library = Library(Settings(index_dir=tmp_path_factory.mktemp("idx")), FakeEmbedder())
    library.index()
    with serve(create_app(library)) as base:
        yield base


def test_every_response_carries_a_strict_content_security_policy(url: str) -> None:
    for path in ("/", "/static/app.js", "/search?q=backdoor", "/papers/nope"):
        response = httpx.get(url + path)
        assert response.headers["content-security-policy"] == PAGE_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self';" in PAGE_POLICY and "unsafe-inline" not in PAGE_POLICY


def test_a_body_over_the_cap_is_refused_before_it_is_read(url: str) -> None:
    big = b'{"title": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    declared = httpx.post(
        url + "/categorize", content=big, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413 and "larger than" in declared.json()["detail"]

    def chunks():
        for start in range(0, len(big), 1_000_000):
            yield big[start : start + 1_000_000]

    streamed = httpx.post(
        url + "/categorize", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert httpx.get(url + "/health").status_code == 200  # the server is fine afterwards


def test_cors_is_off_unless_configured(url: str, tmp_path: Path) -> None:
    origin = {"origin": "https://evil.example"}
    assert "access-control-allow-origin" not in httpx.get(url + "/health", headers=origin).headers
    settings = Settings(index_dir=tmp_path, cors_origins="https://lists.example")
    library = Library(settings, FakeEmbedder())
    with serve(create_app(library)) as other:
        allowed = httpx.get(other + "/health", headers={"origin": "https://lists.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://lists.example"
        refused = httpx.get(other + "/health", headers=origin)
        assert "access-control-allow-origin" not in refused.headers


def test_errors_name_no_server_path_and_show_no_traceback(tmp_path: Path) -> None:
    missing = Library(Settings(index_dir=tmp_path / "idx", auto_build=False), FakeEmbedder())
    with serve(create_app(missing)) as base:
        response = httpx.get(base + "/search", params={"q": "backdoor"})
        assert response.status_code == 503
        detail = response.json()["detail"]
        assert "secml-papers build" in detail and str(tmp_path) not in detail
        assert "/" not in detail.replace("secml-papers build", "")

    class Broken(Library):
        @property
        def paper_list(self):
            raise RuntimeError("secret /etc/shadow details")

    broken = Broken(Settings(index_dir=tmp_path / "b"), FakeEmbedder())
    with serve(create_app(broken)) as base:
        response = httpx.get(base + "/sections")
        assert response.status_code == 500
        assert "shadow" not in response.text and "Traceback" not in response.text
        assert response.json()["detail"].startswith("internal error")


def test_check_pr_limits_answer_4xx_with_a_reason(url: str, monkeypatch) -> None:
    from secml_papers.service import checkpr

    def post(base: str, head: str) -> httpx.Response:
        return httpx.post(url + "/check-pr", json={"base": base, "head": head}, timeout=120)

    entry = '- A et al. [**"Paper {i}"**](https://x.org/{i}) @ **ICML 2020**.'
    too_long = post("# L\n## S\n" + "x" * (checkpr.MAX_LINE_CHARS + 1), "")
    assert too_long.status_code == 400 and "line 3 of the base list" in too_long.json()["detail"]
    assert post("x" * 2_000_001, "").status_code == 422

    monkeypatch.setattr(checkpr, "MAX_ENTRIES", 5)
    many = "# L\n## S\n" + "\n".join(entry.format(i=i) for i in range(6))
    refused = post(many, many)
    assert refused.status_code == 400 and "at most 5 are checked" in refused.json()["detail"]

    monkeypatch.setattr(checkpr, "MAX_ENTRIES", 20_000)
    monkeypatch.setattr(checkpr, "MAX_NEW_EMBEDDINGS", 3)
    monkeypatch.setattr("secml_papers.service.api.MAX_NEW_EMBEDDINGS", 3)
    unseen = post(many, many)
    assert unseen.status_code == 400 and "embeds at most 3" in unseen.json()["detail"]
