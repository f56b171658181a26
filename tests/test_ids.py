"""Stable ids and identifiers."""

from __future__ import annotations

from secml_papers.corpus import parse_list
from secml_papers.corpus.ids import arxiv_id, assign_ids, doi, normalise_url, paper_id

ENTRY_A = '- Wang et al. [**"Neural Cleanse"**](https://x.org/nc) @ **S&P 2019**.'
ENTRY_B = '- Nguyen et al. [**"FLAME: Taming Backdoors"**](https://x.org/f) @ **USENIX 2022**.'


def _ids(text: str) -> dict[str, str]:
    return {p.title: p.id for p in parse_list(text).papers}


def test_ids_survive_reordering_and_moves() -> None:
    first = _ids(f"# L\n\n## Defenses\n\n{ENTRY_A}\n{ENTRY_B}\n")
    reordered = _ids(f"# L\n\n## Defenses\n\n{ENTRY_B}\n{ENTRY_A}\n")
    moved = _ids(f"# L\n\n## Other\n\n{ENTRY_B}\n\n## Defenses\n\n### Sub\n\n{ENTRY_A}\n")
    assert first == reordered == moved
    assert len(set(first.values())) == 2


def test_ids_ignore_case_and_punctuation_of_titles() -> None:
    assert paper_id("Neural Cleanse!") == paper_id("neural   cleanse")
    assert paper_id("Neural Cleanse") != paper_id("Neural Cleansing")


def test_same_title_gets_distinct_deterministic_ids() -> None:
    one = ("Backdoor Learning", "Li|ICML|2021|u1")
    two = ("Backdoor Learning", "Wu|CVPR|2022|u2")
    forward = assign_ids([one, two])
    backward = assign_ids([two, one])
    assert forward[0] != forward[1]
    assert forward == backward[::-1]
    same = ("Backdoor Learning", "Li|ICML|2021|u1")
    twins = assign_ids([one, same])
    assert twins[0] != twins[1] and twins[1].endswith("-2")


def test_identifiers() -> None:
    assert arxiv_id("https://arxiv.org/abs/2201.00763v2") == "2201.00763"
    assert arxiv_id("https://arxiv.org/pdf/2201.00763") == "2201.00763"
    assert arxiv_id("https://example.org/2201.00763") is None
    assert doi("https://doi.org/10.1145/3394171.3413546") == "10.1145/3394171.3413546"
    assert doi("https://dl.acm.org/doi/pdf/10.1145/3394171.3413546") == "10.1145/3394171.3413546"
    assert doi("https://arxiv.org/pdf/2201.00763") is None
    assert normalise_url("http://www.usenix.net/a.pdf?") == normalise_url(
        "https://usenix.net/a.pdf"
    )
