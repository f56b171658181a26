"""What the placement panel reads from POST /categorize: evidence named, the line it would go at.

The fields are additions: ``suggestions[].section / confidence / evidence`` and ``abstain``
keep their shape (tests/test_api.py), ``evidence_entries`` and ``position`` are new.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from secml_papers.corpus.order import NEWEST_FIRST, OLDEST_FIRST
from secml_papers.corpus.records import Paper
from secml_papers.service.api import _line_url, _position, create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder

LIST = """# A list

## Attacks

- A et al. [**"Backdoor attacks in 2024"**](https://example.org/1) @ **ICML 2024**.
- B et al. [**"Backdoor attacks in 2022"**](https://example.org/2) @ **ICML 2022**.
- C et al. [**"Backdoor attacks in 2020"**](https://example.org/3) @ **ICML 2020**.

## Defenses

- D et al. [**"Backdoor defense, undated"**](https://example.org/4).

## Empty
"""


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    listing = tmp_path / "list.md"
    listing.write_text(LIST, encoding="utf-8")
    settings = Settings(list_source=str(listing), index_dir=tmp_path / "index")
    return TestClient(create_app(Library(settings, FakeEmbedder())))


def _by_section(body: dict) -> dict[str, dict]:
    return {" > ".join(s["section"]): s for s in body["suggestions"]}


def test_evidence_is_named_and_every_section_placed(client: TestClient) -> None:
    body = client.post("/categorize", json={"title": "A backdoor attack", "year": 2023}).json()
    assert set(body) >= {"suggestions", "abstain"}
    papers = {p["id"]: p for p in client.get("/papers").json()["papers"]}
    for suggestion in body["suggestions"]:
        named = suggestion["evidence_entries"]
        assert [e["id"] for e in named] == suggestion["evidence"]
        assert all(e["title"] == papers[e["id"]]["title"] for e in named)
        assert suggestion["position"]["url"] is None  # a local file has no line to link to
    placed = _by_section(body)
    # newest first: a 2023 paper goes above the 2022 entry (line 6), below 2024's
    assert placed["Attacks"]["position"] | {"url": None} == {
        "line": 6,
        "where": "before",
        "order": NEWEST_FIRST,
        "year": 2023,
        "url": None,
    }
    assert placed["Defenses"]["position"]["where"] == "after"  # no order: at its end
    assert placed["Defenses"]["position"]["order"] is None
    assert placed["Empty"]["position"] == {
        "line": 13,
        "where": "after",
        "order": None,
        "year": 2023,
        "url": None,
    }  # below its heading


def test_without_a_year_a_paper_tops_a_newest_first_section(client: TestClient) -> None:
    body = client.post("/categorize", json={"title": "A backdoor attack"}).json()
    position = _by_section(body)["Attacks"]["position"]
    assert (position["where"], position["line"]) == ("before", 5)
    assert position["year"] >= 2024


def test_a_year_out_of_range_is_refused(client: TestClient) -> None:
    answer = client.post("/categorize", json={"title": "x", "year": 12})
    assert answer.status_code == 422
    assert "year" in answer.json()["detail"]


def test_the_contract_only_grew() -> None:
    from secml_papers.service.schemas import CategorizePublic, SuggestionPublic

    assert set(CategorizePublic.model_fields) == {"suggestions", "abstain"}
    assert {"section", "confidence", "evidence"} <= set(SuggestionPublic.model_fields)


def _paper(line: int, year: int | None) -> Paper:
    return Paper(f"p{line}", f"P {line}", "A", None, year, None, ("S",), line)


def test_position_follows_the_order() -> None:
    newest = [_paper(10, 2024), _paper(11, 2022), _paper(12, None), _paper(13, 2020)]
    assert _position(newest, NEWEST_FIRST, 2025) == ("before", 10)
    assert _position(newest, NEWEST_FIRST, 2022) == ("before", 11)  # tops its year's run
    assert _position(newest, NEWEST_FIRST, 2021) == ("before", 13)
    assert _position(newest, NEWEST_FIRST, 2019) == ("after", 13)
    oldest = [_paper(20, 2019), _paper(21, 2021)]
    assert _position(oldest, OLDEST_FIRST, 2020) == ("before", 21)
    assert _position(oldest, OLDEST_FIRST, 2030) == ("after", 21)
    assert _position(oldest, None, 2000) == ("after", 21)
    assert _position([], NEWEST_FIRST, 2020) is None


@pytest.mark.parametrize(
    ("source", "url"),
    [
        (
            "https://raw.githubusercontent.com/o/awesome/main/README.md",
            "https://github.com/o/awesome/blob/main/README.md#L42",
        ),
        (
            "https://github.com/o/awesome/blob/main/docs/list.md",
            "https://github.com/o/awesome/blob/main/docs/list.md#L42",
        ),
        ("https://example.org/list.md", None),
        ("/home/me/list.md", None),
        (None, None),
    ],
)
def test_a_line_is_linked_only_on_github(source: str | None, url: str | None) -> None:
    assert _line_url(source, 42) == url
