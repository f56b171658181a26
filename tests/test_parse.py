"""The parser on the bundled list and on malformed lines."""

from __future__ import annotations

import doctest

import pytest

import secml_papers.corpus.abstracts
import secml_papers.corpus.ids
import secml_papers.corpus.list_items
import secml_papers.corpus.outline
import secml_papers.corpus.parse
from secml_papers.corpus import parse_list


@pytest.mark.parametrize(
    "module",
    [
        secml_papers.corpus.parse,
        secml_papers.corpus.outline,
        secml_papers.corpus.list_items,
        secml_papers.corpus.ids,
        secml_papers.corpus.abstracts,
    ],
)
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_bundled_list_entries_and_headings(bundled_text: str) -> None:
    parsed = parse_list(bundled_text)
    assert parsed.title == "Awesome SecML Papers"
    assert len(parsed.papers) == 27
    assert len(parsed.sections) + 1 == 12  # the title and 11 section headings
    assert parsed.warnings == ()
    counts = {s.path: s.count for s in parsed.sections}
    assert counts[("Security of ML Models", "Backdoor Attacks", "Defense Papers")] == 14
    assert counts[("Security of ML Models", "Membership Inference Attacks")] == 0
    assert counts[("ML for Security Systems",)] == 0
    holders = [s.path[-1] for s in parsed.sections if s.can_hold_entries]
    assert len(holders) == 8
    assert "Membership Inference Attacks" in holders and "ML for Security Systems" in holders
    assert "Backdoor Attacks" not in holders


def test_bundled_list_fields(bundled_text: str) -> None:
    papers = {p.title: p for p in parse_list(bundled_text).papers}
    croce = papers["Mind the Box: L1-APGD for Sparse Adversarial Attacks on Image Classifiers"]
    assert croce.url is None  # an empty () link means no url
    assert (croce.authors, croce.venue, croce.year, croce.line) == (
        "Croce et al.",
        "ICML",
        2021,
        12,
    )
    assert croce.section == ("Security of ML Models", "Adversarial Attacks", "Attack Papers")
    nc = papers["Neural Cleanse: Identifying and Mitigating Backdoor Attacks in Neural Networks"]
    assert (nc.venue, nc.year, nc.line) == ("S&P", 2019, 51)
    usenix = papers["FLAME: Taming Backdoors in Federated Learning"]
    assert usenix.venue == "USENIX Security"
    no_period = papers[
        "Breaking the False Sense of Security in Backdoor Defense through Re-Activation Attack"
    ]
    assert (no_period.venue, no_period.year) == ("Arxiv", 2024)
    assert papers["Are adversarial examples inevitable?"].title.endswith("?")


def test_malformed_lines_warn_with_line_numbers() -> None:
    text = "\n".join(
        [
            "# List",  # 1
            "",  # 2
            "## Attacks",  # 3
            "",  # 4
            '- Good et al. [**"A Good Paper"**](https://x.org/a) @ **ICML 2020**.',  # 5
            "- Someone wrote a paper without a link or bold title",  # 6
            '- Bad et al. [**"No Venue"**](https://x.org/b)',  # 7
            '- Half et al. [**"No Year"**](https://x.org/c) @ **ICML**.',  # 8
            "- [Table of contents](#attacks)",  # 9
            "",
            'Lost et al. [**"Not In A List"**](https://x.org/d) @ **CCS 2021**.',  # 11
        ]
    )
    parsed = parse_list(text)
    assert [p.title for p in parsed.papers] == ["A Good Paper", "No Venue", "No Year"]
    lines = sorted(w.line for w in parsed.warnings)
    assert lines == [6, 7, 8, 11]
    messages = {w.line: w.message for w in parsed.warnings}
    assert "no link, venue or year" in messages[6]
    assert "no venue and year" in messages[7]
    assert "no year" in messages[8]
    assert "not a list item" in messages[11]


def test_list_without_title_and_deep_headings() -> None:
    text = "## A\n\n### B\n\n- X [**T1**](u) @ **NeurIPS 2021**.\n\n## C\n"
    parsed = parse_list(text)
    assert parsed.title is None
    assert parsed.papers[0].section == ("A", "B")
    assert parsed.papers[0].title == "T1"
    assert [(s.path, s.count, s.can_hold_entries) for s in parsed.sections] == [
        (("A",), 0, False),
        (("A", "B"), 1, True),
        (("C",), 0, True),
    ]


def test_year_headings_beside_sections_are_sections() -> None:
    """A list organised by year: "## 2024" beside "## Surveys" is a section, while a year
    below a section ("### 2023" under "## Attacks") only groups that section's entries."""
    text = (
        "# L\n\n## Surveys\n\n- [**A survey of poisoning**](https://x.org/1)\n\n"
        "## 2024\n\n- [**Poisoning in 2024**](https://x.org/2)\n\n"
        "## Attacks\n\n### 2023\n\n- [**An attack**](https://x.org/3)\n"
    )
    sections = [p.section for p in parse_list(text).papers]
    assert sections == [("Surveys",), ("2024",), ("Attacks",)]
