"""The parser on lists in the shapes public paper lists are written in (fixtures/shapes/).

The fixtures were written for these tests, each in the style of a family of real lists.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

import secml_papers.corpus.entry
import secml_papers.corpus.headings
import secml_papers.corpus.inline
from secml_papers.corpus import parse_list
from secml_papers.corpus.headings import heading_key
from secml_papers.corpus.records import PaperList

SHAPES = Path(__file__).parent / "fixtures" / "shapes"


def shape(name: str) -> PaperList:
    return parse_list((SHAPES / name).read_text(encoding="utf-8"))


def rows(parsed: PaperList) -> list[tuple]:
    return [(p.line, p.title, p.authors, p.venue, p.year, p.section[-1]) for p in parsed.papers]


@pytest.mark.parametrize(
    "module",
    [secml_papers.corpus.entry, secml_papers.corpus.headings, secml_papers.corpus.inline],
)
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_linked_bold_titles_with_authors_and_year_in_parentheses() -> None:
    parsed = shape("bold-links.md")
    assert parsed.title == "Awesome Privacy Attacks on ML"  # the badge is dropped
    assert [s.path for s in parsed.sections] == [("Membership Inference",), ("Model Extraction",)]
    assert rows(parsed) == [
        (
            17,
            "Membership Inference Attacks Against Machine Learning Models",
            "Shokri et al.",
            None,
            2017,
            "Membership Inference",
        ),
        (
            18,
            "ML-Leaks: Model and Data Independent Membership Inference Attacks and Defenses on Machine Learning Models",
            "Salem et al.",
            None,
            2019,
            "Membership Inference",
        ),
        (
            19,
            "Label-Only Membership Inference Attacks",
            "Choquette-Choo, Tramer, Carlini and Papernot",
            None,
            2021,
            "Membership Inference",
        ),
        (
            23,
            "Stealing Machine Learning Models via Prediction APIs",
            "Tramèr et al.",
            None,
            2016,
            "Model Extraction",
        ),
        (
            24,
            "Knockoff Nets: Stealing Functionality of Black-Box Models",
            "Orekondy et al.",
            None,
            2019,
            "Model Extraction",
        ),
    ]
    # the paper's link, not the code link after it
    assert parsed.papers[0].url == "https://arxiv.org/abs/1610.05820"
    # contents, news, contributing and licence hold no papers and raise no warnings
    assert parsed.warnings == ()


def test_plain_links_with_authors_and_venue_after_a_comma() -> None:
    parsed = shape("plain-links.md")
    assert parsed.title == "Adversarial Machine Learning Reading List"  # the first of the H1s
    assert [s.path for s in parsed.sections] == [("🛡️ Attacks",), (":shield: Defenses",), ("Tools",)]
    assert rows(parsed)[:5] == [
        (
            5,
            "Explaining and Harnessing Adversarial Examples",
            "I. Goodfellow et al.",
            "ICLR",
            2015,
            "🛡️ Attacks",
        ),
        (
            6,
            "Towards Evaluating the Robustness of Neural Networks",
            "N. Carlini and D. Wagner",
            "IEEE S&P",
            2017,
            "🛡️ Attacks",
        ),
        (
            7,
            "Universal adversarial perturbations",
            "S. Moosavi-Dezfooli et al.",
            "CVPR",
            2017,
            "🛡️ Attacks",
        ),
        (
            11,
            "Towards Deep Learning Models Resistant to Adversarial Attacks",
            "A. Madry et al.",
            "ICLR",
            2018,
            ":shield: Defenses",
        ),
        (
            12,
            "Certified Adversarial Robustness via Randomized Smoothing",
            "J. Cohen, E. Rosenfeld and Z. Kolter",
            "ICML",
            2019,
            ":shield: Defenses",
        ),
    ]
    foolbox = parsed.papers[5]
    assert (foolbox.title, foolbox.note) == (
        "Foolbox",
        "a Python toolbox to create adversarial examples",
    )
    # a tool has no venue or year: kept, with a warning that names its line
    assert [(w.line, "no venue and year" in w.message) for w in parsed.warnings] == [
        (16, True),
        (17, True),
    ]


def test_numbered_entries_with_a_note_and_numbered_headings() -> None:
    parsed = shape("numbered.md")
    assert [s.path[-1] for s in parsed.sections] == [
        "1 Attacks",
        "1.1 Poisoning-based",
        "1.2 Non-poisoning-based",
        "2 Defenses",
        "3 Attacks on Text",
    ]
    assert heading_key(parsed.sections[1].path[-1]) == "poisoning-based"
    first = parsed.papers[0]
    assert (first.title, first.venue, first.year, first.url) == (
        "BadNets: Identifying Vulnerabilities in the Machine Learning Model Supply Chain",
        "arXiv",
        2017,
        "https://arxiv.org/pdf/1708.06733",  # the pdf, not the code
    )
    assert (
        first.note
        == "the first backdoor attack: a patch trigger stamped on poisoned training images"
    )
    assert [(p.line, p.venue, p.year) for p in parsed.papers] == [
        (7, "arXiv", 2017),
        (8, "arXiv", 2017),
        (9, "ICLR", 2021),
        (13, "CVPR", 2020),
        (17, "NeurIPS", 2018),
        (18, "S&P", 2019),
        (22, "ACL", 2018),
    ]
    assert parsed.papers[-2].note is None and parsed.warnings == ()
    hotflip = parsed.papers[-1]  # italic names are the authors; "code&data" is a label
    assert (hotflip.authors, hotflip.note, hotflip.url) == (
        "Javid Ebrahimi, Anyi Rao, Daniel Lowd, Dejing Dou",
        "gradient",
        "https://aclanthology.org/P18-2006.pdf",
    )


def test_a_date_before_the_title_and_a_venue_badge() -> None:
    parsed = shape("badges.md")
    assert (
        parsed.sections == () and parsed.title == "Membership Inference Attacks on Language Models"
    )
    assert [(p.line, p.authors, p.venue, p.year, p.tags) for p in parsed.papers] == [
        (2, "", "USENIX Security", 2025, ("LLM",)),  # the badge names the venue and its year
        (3, "", None, 2024, ("LLM", "Defense")),  # the date gives the year
    ]
    assert parsed.skipped == (4,)  # an item that is only a badge


def test_multi_line_entries_and_year_headings() -> None:
    parsed = shape("multiline.md")
    # "#### 2021" groups by year: its entries belong to the section above
    assert [s.path for s in parsed.sections] == [
        ("Survey",),
        ("Image Classification",),
        ("Image Classification", "Poisoning-based Attack"),
    ]
    assert rows(parsed) == [
        (
            17,
            "Backdoor Learning: A Survey",
            "Yiming Li, Baoyuan Wu, Yong Jiang, Zhifeng Li, and Shu-Tao Xia",
            "IEEE Transactions on Neural Networks and Learning Systems",
            2022,
            "Survey",
        ),
        (
            21,
            "Backdoor Attacks and Countermeasures on Deep Learning: A Comprehensive Review",
            "Yansong Gao, Bao Gia Doan, Zhi Zhang, Siqi Ma, and Hyoungshick Kim",
            "arXiv",
            2020,
            "Survey",
        ),
        (
            28,
            "Invisible Backdoor Attack with Sample-Specific Triggers",
            "Yuezun Li, Yiming Li, Baoyuan Wu, Longkang Li, Ran He, and Siwei Lyu",
            "ICCV",
            2021,
            "Poisoning-based Attack",
        ),
        (
            33,
            "Blind Backdoors in Deep Learning Models",
            "Eugene Bagdasaryan, and Vitaly Shmatikov",
            "USENIX Security",
            2021,
            "Poisoning-based Attack",
        ),
        (
            39,
            "Input-Aware Dynamic Backdoor Attack",
            "Anh Nguyen, and Anh Tran",
            "NeurIPS",
            2020,
            "Poisoning-based Attack",
        ),
        (
            43,
            "Reflection Backdoor: A Natural Backdoor Attack on Deep Neural Networks",
            "Yunfei Liu, Xingjun Ma, James Bailey, and Feng Lu",
            "ECCV",
            2020,
            "Poisoning-based Attack",
        ),
    ]
    assert parsed.papers[2].url == "https://arxiv.org/pdf/2012.03816.pdf"
    assert parsed.papers[5].url.startswith("https://link.springer.com/")  # [[link]] is the paper
    assert parsed.warnings == ()  # the format example in a code block is not an entry


def test_tables_under_bold_pseudo_headings() -> None:
    parsed = shape("tables.md")
    assert [s.path for s in parsed.sections] == [
        ("Attacks",),
        ("Attacks", "Image Classification"),
        ("Attacks", "Language Models"),
        ("Defenses",),
        ("Tools",),  # a table without a title column holds no papers
    ]
    assert [(p.line, p.title[:40], p.venue, p.year, p.section[-1]) for p in parsed.papers] == [
        (11, "Membership Inference Attacks Against Mac", "S&P", 2017, "Image Classification"),
        (12, "Membership Inference Attacks From First ", "S&P", 2022, "Image Classification"),
        (
            18,
            "Extracting Training Data from Large Lang",
            "USENIX Security",
            2021,
            "Language Models",
        ),
        (24, "MemGuard: Defending against Black-Box Me", "CCS", 2019, "Defenses"),
        (25, "Machine Learning with Membership Privacy", "CCS", 2018, "Defenses"),
    ]
    assert parsed.papers[0].url == "https://arxiv.org/pdf/1610.05820"  # from the Paper column
    assert parsed.papers[2].url == "https://arxiv.org/abs/2012.07805"  # the linked title
    assert parsed.papers[3].authors == "Jia et al."
    assert parsed.papers[3].note == "noise on the confidence scores"  # the TL;DR column


def test_items_that_only_name_a_group_are_subsections() -> None:
    parsed = shape("groups.md")
    assert [(s.path, s.count) for s in parsed.sections] == [
        (("Attacks",), 0),
        (("Attacks", "Evasion"), 2),
        (("Attacks", "Poisoning"), 1),
        (("Surveys",), 1),
    ]
    assert rows(parsed)[0] == (
        6,
        "Intriguing properties of neural networks",
        "Szegedy et al.",
        "ICLR",
        2014,
        "Evasion",
    )
    assert [w.line for w in parsed.warnings] == [14]  # the survey mentioned without a link
    sok = parsed.papers[-1]  # badges inside and after the linked title are dropped
    assert (sok.title, sok.url, sok.venue) == (
        "SoK: Security and Privacy in Machine Learning",
        "https://ieeexplore.ieee.org/document/8406613",
        "EuroS&P",
    )


@pytest.mark.parametrize(
    ("heading", "key"),
    [
        ("1.1.2 Image Classification", "image classification"),
        ("IV. Defenses", "defenses"),
        (":fire: Backdoor Attacks", "backdoor attacks"),
        ("🔥 Backdoor Attacks 🔥", "backdoor attacks"),
        ("Attacks & Defenses:", "attacks & defenses"),
    ],
)
def test_heading_keys_drop_numbering_and_emoji(heading: str, key: str) -> None:
    assert heading_key(heading) == key


def test_every_item_is_parsed_skipped_or_warned() -> None:
    text = "\n".join(
        [
            "# L",
            "## Papers",
            "- [**A Paper With A Link**](https://x.org/a) (Doe, 2020)",  # 3: parsed
            "- [Papers](#papers)",  # 4: a contents link, skipped
            "- Just a remark in passing",  # 5: warned
            "- **Group**",  # 6: a group name with nothing under it: warned
            "- [pdf](https://x.org/p.pdf)",  # 7: only a label: warned
        ]
    )
    parsed = parse_list(text)
    assert [p.line for p in parsed.papers] == [3]
    assert [w.line for w in parsed.warnings] == [5, 6, 7]


@pytest.mark.parametrize("name", sorted(p.name for p in SHAPES.glob("*.md")))
def test_papers_and_sections_commands_read_every_shape(name: str, tmp_path: Path) -> None:
    from .test_cli import run

    expected = shape(name)
    common = ("--list", str(SHAPES / name), "--index-dir", str(tmp_path))
    papers = run(*common, "papers", "--json")
    assert papers.returncode == 0, papers.stderr
    body = json.loads(papers.stdout)
    assert [(p["title"], p["section"], p["note"]) for p in body["papers"]] == [
        (p.title, list(p.section), p.note) for p in expected.papers
    ]
    assert len(body["warnings"]) == len(expected.warnings)
    sections = json.loads(run(*common, "sections", "--json").stdout)["sections"]
    assert [s["section"] for s in sections] == [list(s.path) for s in expected.sections]


def test_section_filters_match_headings_without_their_numbering_or_emoji() -> None:
    from secml_papers.index.search.paper_index import papers_in_section

    numbered = shape("numbered.md")
    found = papers_in_section(numbered.papers, numbered.sections, "attacks > poisoning-based")
    assert [p.line for p in found] == [7, 8, 9]
    assert len(papers_in_section(numbered.papers, numbered.sections, "1 Attacks")) == 4
    emoji = shape("plain-links.md")
    assert len(papers_in_section(emoji.papers, emoji.sections, "defenses")) == 2


def test_sibling_headings_split_by_year_fold_into_one_section() -> None:
    text = "\n".join(
        [
            "# Membership Inference Literature",
            "## How to Search?",
            "Search for **CCS** on the page: [2023](#attack-papers-2023) | [2022](#attack-papers-2022)",
            "## Attacks",
            "### Attack Papers 2023",
            "- [Paper A](https://x.org/a), Doe et al., CCS 2023",
            "### Attack Papers 2022 [[Back to Top](#membership-inference-literature)]",
            "- [Paper B](https://x.org/b), Roe et al., S&P 2022",
            "### Surveys 2021",
            "- [Paper C](https://x.org/c), Poe et al., CSUR 2021",
        ]
    )
    parsed = parse_list(text)
    assert [(s.path, s.count) for s in parsed.sections] == [
        (("Attacks",), 0),
        (("Attacks", "Attack Papers"), 2),
        (("Attacks", "Surveys 2021"), 1),  # a single year is the heading's own name
    ]
    assert [p.year for p in parsed.papers] == [2023, 2022, 2021]
    assert parsed.warnings == ()  # "How to Search?" is skipped with its navigation links
