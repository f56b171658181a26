"""Empty sections are found by their description: the prose under a heading and the clause
of the list's introduction that names it (issue 14). Titles: tests/fixtures, with sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secml_papers.corpus.parse import parse_list
from secml_papers.index.categorize.categorizer import described
from secml_papers.index.categorize.features import heading_text

TITLES = json.loads((Path(__file__).parent / "fixtures" / "empty_sections_titles.json").read_text())

TINY = """\
# Awesome Things

[![Awesome](https://awesome.re/badge.svg)](https://awesome.re)

Papers about attacks on models, as well as papers about ML application in security systems.

## Attacks on Models

Evasion and poisoning of trained models.

- Wang et al. [**"Neural Cleanse"**](https://x.org/nc.pdf) @ **S&P 2019**.

[back to top](#top)

### Membership

## ML for Security Systems

**Malware**

Detectors of malicious programs, learnt from samples.

## Contributing

Please open a pull request with your paper.
"""


def test_introduction_and_prose_are_kept() -> None:
    parsed = parse_list(TINY)
    assert parsed.introduction.startswith("Papers about attacks on models")
    by_path = {s.path: s for s in parsed.sections}
    assert by_path[("Attacks on Models",)].description == "Evasion and poisoning of trained models."
    assert by_path[("Attacks on Models",)].intro == "attacks on models"
    assert by_path[("ML for Security Systems",)].intro == "ML application in security systems"
    assert by_path[("ML for Security Systems", "Malware")].description.startswith("Detectors")
    assert by_path[("Attacks on Models", "Membership")].description == ""
    assert all("pull request" not in s.description for s in parsed.sections)  # skipped part
    assert [p.title for p in parsed.papers] == ["Neural Cleanse"]
    assert all(set(s.to_dict()) == {"section", "count"} for s in parsed.sections)


def test_heading_text_reads_the_description() -> None:
    section = next(s for s in parse_list(TINY).sections if s.path == ("ML for Security Systems",))
    assert heading_text(section.path, described(section)) == (
        "ML for Security Systems: ML application in security systems"
    )
    assert heading_text(("Backdoors", "2. Theory")) == "Backdoors > Theory"


def test_common_kinds_of_section_are_described() -> None:
    """ "Defense Papers" says what a defense paper does; a topic that merely ends in "Attacks"
    is no kind of section and gets nothing (its papers are not adversarial examples)."""
    assert heading_text(("Backdoors", "2. Defenses")).startswith(
        "Backdoors > Defenses: defending against attacks"
    )
    assert "attacking models" in heading_text(("2. Attack Papers", "2.1 Targeted Attack"))
    assert heading_text(("Security of ML Models", "Membership Inference Attacks")) == (
        "Security of ML Models > Membership Inference Attacks"
    )


@pytest.mark.real_model
@pytest.mark.parametrize("section", sorted(TITLES))
def test_empty_section_wins_its_papers(real_library, section: str) -> None:
    """On the bundled list, >= 90% of real titles of each empty section's topic get it first."""
    categorizer = real_library.categorizer
    titles = [t["title"] for t in TITLES[section]]
    first = [categorizer.categorize(t).suggestions[0].section[-1] for t in titles]
    misses = [t for t, f in zip(titles, first, strict=True) if f != section]
    assert len(titles) >= 10
    assert 1 - len(misses) / len(titles) >= 0.9, misses
