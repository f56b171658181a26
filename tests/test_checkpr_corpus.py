"""The model-free part of ``check-pr``: diff, duplicates, lint and year order.

BASE and HEAD are built from the bundled list the way a contributor's pull request would
edit it, so every expectation below is about a realistic change.
"""

from __future__ import annotations

import pytest

from secml_papers.corpus.diff import changed_lines, diff_lists
from secml_papers.corpus.duplicates import (
    COPIED_URL,
    PREPRINT,
    PUBLISHED,
    SAME_ARXIV,
    SAME_DOI,
    SAME_TITLE,
    SAME_URL,
    Duplicate,
    duplicate_reason,
    find_duplicates,
    is_preprint,
    is_published,
)
from secml_papers.corpus.lint import FORMAT, PLACEMENT, STRUCTURE, STYLE, Problem, lint_list
from secml_papers.corpus.order import (
    NEWEST_FIRST,
    OLDEST_FIRST,
    OrderProblem,
    order_problems,
    section_orders,
)
from secml_papers.corpus.parse import parse_list
from secml_papers.corpus.records import Paper
from secml_papers.corpus.storage import read_list

TODAY = 2025
BUNDLED = read_list(None).text

ADV = ("Security of ML Models", "Adversarial Attacks")
BKD = ("Security of ML Models", "Backdoor Attacks")
ADV_DEF = (*ADV, "Defense Papers")
ADV_THEORY = (*ADV, "Theory-driven Papers")
BKD_ATT = (*BKD, "Attack Papers")
BKD_DEF = (*BKD, "Defense Papers")
BKD_THEORY = (*BKD, "Theory-driven Papers")
MIA = ("Security of ML Models", "Membership Inference Attacks")
MLSEC = ("ML for Security Systems",)

# --- lines a contributor adds -------------------------------------------------------------
OK_NEW = (
    '- Xu et al. [**"Towards Reliable and Efficient Backdoor Trigger Inversion via Decoupling'
    ' Benign Features"**](https://openreview.net/pdf?id=Tw9wemV6cb) @ **ICLR 2024**.'
)
PUBLISHED_NEW = (
    '- Zhang et al. [**"Towards Reliable Poisoned Sample Detection against Backdoor Attacks'
    ' Enhanced by Sharpness Aware Minimization"**](https://openreview.net/pdf?id=RelPSD25)'
    " @ **ICLR 2025**."
)
OUT_OF_ORDER = (
    '- Chen et al. [**"Detecting Backdoor Attacks on Deep Neural Networks by Activation'
    ' Clustering"**](https://arxiv.org/pdf/1811.03728) @ **AAAI SafeAI 2019**.'
)
ARXIV_DUP = (
    '- Rieger et al. [**"DeepSight: Mitigating Backdoor Attacks in Federated Learning"**]'
    "(https://arxiv.org/abs/2201.00763v2) @ **Arxiv 2022**."
)
DOI_DUP = (
    '- Ning et al. [**"Interpretation-Empowered Neural Cleanse for Backdoor Attacks"**]'
    "(https://doi.org/10.1145/3589335.3651525) @ **WWW 2024**."
)
COPIED = (
    '- Doe et al. [**"Backdoor Vaccination: Immunising Federated Models against Poisoning"**]'
    "(http://usenix.net/system/files/sec22fall_nguyen.pdf?) @ **ICML 2022**."
)
NOT_BOLD = (
    "- Tran et al. [Spectral Signatures in Backdoor Attacks](https://proceedings.neurips.cc/"
    "paper/2018/file/280cf18baf4311c92aa5a042336587d3-Paper.pdf) @ NeurIPS 2018."
)
PREPRINT_NEW = (
    '- Cohen et al. [**"Certified Adversarial Robustness via Randomised Smoothing"**]'
    "(https://arxiv.org/abs/1902.02918) @ **CoRR 2019**."
)
FUTURE = (
    '- Lee et al. [**"Adversarial Training Beyond the Horizon"**]'
    "(https://openreview.net/pdf?id=Fut2031) @ **ICLR 2031**."
)
UNQUOTED = (
    "- Gu et al. [**BadNets: Identifying Vulnerabilities in the Machine Learning Model Supply"
    " Chain**](https://arxiv.org/pdf/1708.06733) @ **Arxiv 2017**"
)
PLACED_HIGH = (
    '- Goldblum et al. [**"Dataset Security for Machine Learning: Data Poisoning, Backdoor'
    ' Attacks, and Defenses"**](https://doi.org/10.1109/TPAMI.2022.3162397) @ **TPAMI 2022**.'
)
EMPTY_LINK = (
    '- Carlini et al. [**"Membership Inference Attacks From First Principles"**]() @ **S&P 2022**.'
)
NO_YEAR = (
    '- Shokri et al. [**"Membership Inference Attacks Against Machine Learning Models"**]'
    "(https://ieeexplore.ieee.org/document/7958568) @ **S&P**."
)
TWIN = (
    '- Papernot et al. [**"SoK: Security and Privacy in Machine Learning"**]'
    "(https://ieeexplore.ieee.org/document/8406613) @ **EuroS&P 2018**."
)


# --- editing helpers ----------------------------------------------------------------------
def _index(lines: list[str], needle: str) -> int:
    hits = [i for i, line in enumerate(lines) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the one line containing ``needle``."""
    return _index(text.split("\n"), needle) + 1


def replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def insert(text: str, needle: str, new: str, *, after: bool = True) -> str:
    lines = text.split("\n")
    at = _index(lines, needle) + (1 if after else 0)
    return "\n".join([*lines[:at], new, *lines[at:]])


def delete(text: str, needle: str) -> tuple[str, str]:
    lines = text.split("\n")
    gone = lines.pop(_index(lines, needle))
    return "\n".join(lines), gone


def make_base() -> str:
    """The bundled list, with a typo the pull request fixes."""
    return replace(BUNDLED, "Trade-off between Robustness", "Trade-off betwen Robustness")


def make_head() -> str:
    text = BUNDLED
    # edits in place: an author typo fixed, a title's capitalisation changed
    text = replace(text, "- Shafani et al.", "- Shafahi et al.")
    text = replace(text, "Removal based on Channel", "Removal Based on Channel")
    # moved: Zhang et al. (Duality) to the adversarial defenses, newest first
    text, duality = delete(text, "On the Duality Between")
    text = insert(text, "- Muravev et al.", duality, after=False)
    # moved and edited: Zhu et al. (Re-Activation) now published, with the missing "."
    text, breaking = delete(text, "Breaking the False Sense")
    breaking = breaking.replace("**Arxiv 2024**", "**NeurIPS 2024**.")
    text = insert(text, "- Ning et al.", breaking, after=False)
    # removed
    text, _ = delete(text, "Backdoor Cleansing with Unlabeled Data")
    # added to Backdoor Attacks > Defense Papers
    text = insert(text, "Breaking the False Sense", PUBLISHED_NEW, after=False)
    text = insert(text, "Towards Reliable Poisoned Sample", OUT_OF_ORDER, after=False)
    text = insert(text, "- Ning et al.", DOI_DUP)
    text = insert(text, "NeuralSanitizer", OK_NEW)
    text = insert(text, "FLAME: Taming", COPIED)
    text = insert(
        text, "DeepSight: Mitigating Backdoor Attacks in Federated Learning Through", ARXIV_DUP
    )
    text = insert(text, "Neural Cleanse: Identifying", NOT_BOLD)
    # added elsewhere
    text = insert(text, "cohen19c.pdf", PREPRINT_NEW)
    text = insert(text, "zhang19p.pdf", FUTURE)
    text = insert(text, "Attack of the Tails", UNQUOTED)
    text = insert(text, "### Backdoor Attacks", f"\n{PLACED_HIGH}")
    text = insert(text, "### Membership Inference Attacks", f"\n{EMPTY_LINK}\n{NO_YEAR}\n{TWIN}")
    return insert(text, "## ML for Security Systems", f"\n{TWIN}")


BASE_TEXT = make_base()
HEAD_TEXT = make_head()
BASE = parse_list(BASE_TEXT)
HEAD = parse_list(HEAD_TEXT)


def head_paper(needle: str) -> Paper:
    line = line_of(HEAD_TEXT, needle)
    return next(p for p in HEAD.papers if p.line == line)


def base_paper(needle: str) -> Paper:
    line = line_of(BASE_TEXT, needle)
    return next(p for p in BASE.papers if p.line == line)


def hl(needle: str) -> int:
    return line_of(HEAD_TEXT, needle)


def added_at(entry: str) -> list[int]:
    """The HEAD lines that are exactly ``entry``, as the contributor wrote it."""
    return [i + 1 for i, line in enumerate(HEAD_TEXT.split("\n")) if line == entry]


def head_at(line: int) -> Paper:
    return next(p for p in HEAD.papers if p.line == line)


# --- diff ---------------------------------------------------------------------------------
def test_diff_reports_every_added_paper_in_head_order() -> None:
    diff = diff_lists(BASE, HEAD)
    expected = [
        OUT_OF_ORDER,
        PUBLISHED_NEW,
        DOI_DUP,
        OK_NEW,
        COPIED,
        ARXIV_DUP,
        NOT_BOLD,
        PREPRINT_NEW,
        FUTURE,
        PLACED_HIGH,
        UNQUOTED,
        EMPTY_LINK,
        NO_YEAR,
        TWIN,
        TWIN,
    ]
    expected_lines = sorted({line for entry in expected for line in added_at(entry)})
    assert len(expected_lines) == len(expected)
    assert [p.line for p in diff.added] == expected_lines
    assert diff.added[0].title == "Certified Adversarial Robustness via Randomised Smoothing"
    assert diff.added[0].section == ADV_DEF
    assert diff.added[-1].section == MLSEC and diff.added[-2].section == MIA
    # the line without a bold title is still a paper (the parser reads many list shapes);
    # lint reports that it departs from this list's own form
    spectral = next(p for p in diff.added if p.title.startswith("Spectral Signatures"))
    assert (spectral.venue, spectral.year, spectral.authors) == ("NeurIPS", 2018, "Tran et al.")


def test_diff_reports_removed_moved_and_edited() -> None:
    diff = diff_lists(BASE, HEAD)
    assert [p.title for p in diff.removed] == ["Backdoor Cleansing with Unlabeled Data"]
    assert diff.removed[0].line == line_of(BASE_TEXT, "Backdoor Cleansing with Unlabeled")

    moved = {p.head.title: (p.base.section, p.head.section) for p in diff.moved}
    assert moved == {
        "Breaking the False Sense of Security in Backdoor Defense through Re-Activation Attack": (
            BKD_ATT,
            BKD_DEF,
        ),
        "On the Duality Between Sharpness-Aware Minimization and Adversarial Training": (
            ADV_THEORY,
            ADV_DEF,
        ),
    }
    edited = {p.head.title: (p.fields, p.matched_by) for p in diff.edited}
    assert edited == {
        "Breaking the False Sense of Security in Backdoor Defense through Re-Activation Attack": (
            ("venue",),
            "id",
        ),
        "Are adversarial examples inevitable?": (("authors",), "id"),
        "Data-free Backdoor Removal Based on Channel Lipschitzness": (("title",), "id"),
        "Theoretically Principled Trade-off between Robustness and Accuracy": (("title",), "URL"),
    }
    fixed = next(p for p in diff.edited if p.matched_by == "URL")
    assert fixed.base.title == "Theoretically Principled Trade-off betwen Robustness and Accuracy"
    assert (fixed.base.line, fixed.head.line) == (25, hl("Theoretically Principled"))
    shafahi = next(p for p in diff.edited if p.fields == ("authors",))
    assert (shafahi.base.authors, shafahi.head.authors) == ("Shafani et al.", "Shafahi et al.")
    # the original DeepSight and Ning entries stay paired; their copies are the added ones
    assert all(not p.moved and not p.fields for p in diff.pairs if "DeepSight" in p.head.title)
    assert len(diff.pairs) == len(BASE.papers) - 1
    as_dict = diff.to_dict()
    assert set(as_dict) == {"added", "removed", "moved", "edited"}
    assert as_dict["edited"][0]["fields"] and as_dict["moved"][0]["head"]["section"]


def test_unchanged_and_reordered_lists_have_an_empty_diff() -> None:
    same = diff_lists(BASE, BASE)
    assert (same.added, same.removed, same.moved, same.edited) == ((), (), (), ())
    text, line = delete(BUNDLED, "Certified Adversarial Robustness via Randomized")
    text = insert(text, "- Muravev et al.", line, after=False)
    reordered = diff_lists(parse_list(BUNDLED), parse_list(text))
    assert (reordered.added, reordered.removed, reordered.moved, reordered.edited) == (
        (),
        (),
        (),
        (),
    )


def test_a_link_reused_under_another_title_is_not_an_edit() -> None:
    text, _ = delete(BUNDLED, "Backdoor Cleansing with Unlabeled Data")
    reuse = (
        '- Doe et al. [**"Backdoor Purification via Weight Masking"**](https://openaccess.'
        "thecvf.com/content/CVPR2023/papers/Pang_Backdoor_Cleansing_With_Unlabeled_Data_"
        "CVPR_2023_paper.pdf) @ **CVPR 2023**."
    )
    text = insert(text, "Backdoor Defense via Adaptively", reuse)
    diff = diff_lists(parse_list(BUNDLED), parse_list(text))
    assert [p.title for p in diff.added] == ["Backdoor Purification via Weight Masking"]
    assert [p.title for p in diff.removed] == ["Backdoor Cleansing with Unlabeled Data"]
    assert diff.edited == () and diff.moved == ()


def test_a_retitled_entry_with_its_link_is_an_edit() -> None:
    text = replace(
        BUNDLED, "Federated Learning Through Deep Model Inspection", "Federated Learning"
    )
    diff = diff_lists(parse_list(BUNDLED), parse_list(text))
    assert (diff.added, diff.removed, diff.moved) == ((), (), ())
    [pair] = diff.edited
    assert (pair.fields, pair.matched_by) == (("title",), "arXiv id")


def test_a_typo_fix_with_a_new_link_is_paired_by_title() -> None:
    base = replace(
        BUNDLED, "Are adversarial examples inevitable", "Are adversarial exmaples inevitable"
    )
    head = replace(BUNDLED, "https://arxiv.org/pdf/1809.02104", "https://openreview.net/pdf?id=r1l")
    diff = diff_lists(parse_list(base), parse_list(head))
    [pair] = diff.edited
    assert (pair.fields, pair.matched_by) == (("title", "url"), "title")
    assert (diff.added, diff.removed) == ((), ())


def test_near_identical_titles_with_different_arxiv_ids_are_two_papers() -> None:
    base = replace(
        BUNDLED, "Are adversarial examples inevitable", "Are adversarial exmaples inevitable"
    )
    head = replace(BUNDLED, "https://arxiv.org/pdf/1809.02104", "https://arxiv.org/abs/2101.00001")
    diff = diff_lists(parse_list(base), parse_list(head))
    assert [p.title for p in diff.added] == ["Are adversarial examples inevitable?"]
    assert [p.title for p in diff.removed] == ["Are adversarial exmaples inevitable?"]


def test_a_pasted_copy_leaves_the_original_paired() -> None:
    original = next(line for line in BUNDLED.split("\n") if "GangSweep" in line)
    text = insert(BUNDLED, "A Theoretical Analysis of Backdoor", original)
    diff = diff_lists(parse_list(BUNDLED), parse_list(text))
    [copy] = diff.added
    assert copy.line == line_of(text, "A Theoretical Analysis of Backdoor") + 1
    assert copy.section == BKD_THEORY
    assert (diff.removed, diff.moved, diff.edited) == ((), (), ())


def test_a_preprint_copy_above_the_original_is_the_added_one() -> None:
    # the copy sits at the original's old line, but shares fewer fields with the BASE entry
    copy = (
        '- Rieger et al. [**"DeepSight: Mitigating Backdoor Attacks in Federated Learning Through'
        ' Deep Model Inspection"**](https://arxiv.org/abs/2201.00763v2) @ **Arxiv 2022**.'
    )
    text = insert(BUNDLED, "sec22fall_nguyen.pdf", copy)
    diff = diff_lists(parse_list(BUNDLED), parse_list(text))
    [added] = diff.added
    assert (added.line, added.venue) == (line_of(BUNDLED, "DeepSight"), "Arxiv")
    assert (diff.removed, diff.moved, diff.edited) == ((), (), ())
    [pair] = [p for p in diff.pairs if "DeepSight" in p.head.title]
    assert (pair.head.venue, pair.matched_by) == ("NDSS", "arXiv id")


def test_changed_lines_are_the_lines_a_pull_request_wrote() -> None:
    lines = changed_lines(BASE_TEXT, HEAD_TEXT)
    for needle in (
        OK_NEW,
        COPIED,
        UNQUOTED,
        "- Shafahi et al.",
        "Trade-off between",
        "Removal Based on",
        "Breaking the False Sense",
        "On the Duality",
    ):
        assert hl(needle) in lines, needle
    for needle in ("Mind the Box", "Neural Cleanse: Identifying", "FLAME: Taming", "## ML for"):
        assert hl(needle) not in lines, needle


# --- duplicates ---------------------------------------------------------------------------
def test_find_duplicates_gives_each_added_paper_its_reason() -> None:
    diff = diff_lists(BASE, HEAD)
    found = find_duplicates(diff.added, BASE.papers)
    assert list(found) == [p.id for p in diff.added]

    def of(entry: str) -> tuple[Duplicate, ...]:
        [line] = added_at(entry)
        return found[head_at(line).id]

    def dup(base_needle: str, reason: str) -> Duplicate:
        paper = base_paper(base_needle)
        return Duplicate(paper.id, paper.title, reason)

    assert of(ARXIV_DUP) == (dup("Federated Learning Through Deep Model", SAME_ARXIV),)
    assert of(DOI_DUP) == (dup("- Ning et al.", SAME_DOI),)
    assert of(COPIED) == (dup("FLAME: Taming", COPIED_URL),)
    assert of(PREPRINT_NEW) == (dup("cohen19c.pdf", PREPRINT),)
    assert of(PUBLISHED_NEW) == (dup('- Zhang et al. [**"Reliable Poisoned', PUBLISHED),)
    for clean in (OK_NEW, OUT_OF_ORDER, FUTURE, UNQUOTED, PLACED_HIGH, EMPTY_LINK, NO_YEAR):
        assert of(clean) == (), clean
    first, second = (p for p in diff.added if p.title.startswith("SoK"))
    assert found[first.id] == ()
    assert found[second.id] == (Duplicate(first.id, first.title, SAME_TITLE),)
    assert found[second.id][0].to_dict() == {
        "id": first.id,
        "title": first.title,
        "reason": SAME_TITLE,
    }


def _paper(title: str, url: str | None, venue: str | None = "ICML", pid: str = "") -> Paper:
    return Paper(pid or title, title, "A et al.", venue, 2020, url, ("S",), 1)


@pytest.mark.parametrize(
    ("added", "other", "reason"),
    [
        # abs/pdf/versioned arXiv links are one id, whatever the title spelling
        (
            _paper("X Y", "https://arxiv.org/abs/2201.00763v2"),
            _paper("x-y", "http://arxiv.org/pdf/2201.00763"),
            SAME_ARXIV,
        ),
        # a doi.org link and a publisher link carrying the DOI
        (
            _paper("Neural Cleanse", "https://doi.org/10.1145/3394171.3413546"),
            _paper("Neural Cleanse!", "https://dl.acm.org/doi/pdf/10.1145/3394171.3413546"),
            SAME_DOI,
        ),
        (
            _paper("Are adversarial examples inevitable?", "https://a.org/1"),
            _paper("ARE ADVERSARIAL EXAMPLES INEVITABLE", "https://b.org/2"),
            SAME_TITLE,
        ),
        # scheme, www. and a trailing "?" are no difference; a dropped subtitle is related
        (
            _paper("DeepSight: Mitigating Backdoor Attacks", "http://www.usenix.org/p.pdf?"),
            _paper(
                "DeepSight: Mitigating Backdoor Attacks in Federated Learning",
                "https://usenix.org/p.pdf",
            ),
            SAME_URL,
        ),
        (
            _paper("Backdoor Purification via Weight Masking", "https://usenix.org/p.pdf"),
            _paper("FLAME: Taming Backdoors in Federated Learning", "https://usenix.org/p.pdf"),
            COPIED_URL,
        ),
        # an arXiv link copied under another paper's title is a copied link, not that paper
        (
            _paper("Backdoor Purification via Weight Masking", "https://arxiv.org/abs/2202.03423"),
            _paper(
                "Backdoor Defense via Decoupling the Training Process",
                "https://arxiv.org/pdf/2202.03423",
            ),
            COPIED_URL,
        ),
        (
            _paper(
                "On the Adversarial Robustness of Visual Transformers", "https://a.org/v", "arXiv"
            ),
            _paper(
                "On the Adversarial Robustness of Vision Transformers", "https://b.org/t", "TMLR"
            ),
            PREPRINT,
        ),
        (
            _paper(
                "On the Adversarial Robustness of Vision Transformers", "https://b.org/t", "TMLR"
            ),
            _paper("On the Adversarial Robustness of Visual Transformers", None, "CoRR"),
            PUBLISHED,
        ),
        # near-identical titles, both published or both preprints: no reason from this module
        (
            _paper("Adversarial Examples in the Physical World", "https://a.org/1"),
            _paper("Adversarial Examples in the Physical Domain", "https://b.org/2", "arXiv"),
            None,
        ),
        (
            _paper("Backdoor Cleansing with Unlabeled Data", None),
            _paper("Backdoor Cleansing with Unlabeled Data Sets", None, "TMLR"),
            None,
        ),
    ],
)
def test_duplicate_reason(added: Paper, other: Paper, reason: str | None) -> None:
    assert duplicate_reason(added, other) == reason


def test_the_strongest_reason_is_kept_once_per_pair() -> None:
    existing = _paper("Neural Cleanse", "https://arxiv.org/pdf/1234.56789", pid="nc")
    other = _paper("Something Else Entirely", "https://arxiv.org/abs/1234.56789v3", pid="se")
    added = _paper("Neural Cleanse", "https://arxiv.org/abs/1234.56789", pid="new")
    found = find_duplicates([added], [existing, existing, other])
    # arXiv id beats same title and same URL; the unrelated title sharing it is a copied link
    assert found == {
        "new": (
            Duplicate("nc", "Neural Cleanse", SAME_ARXIV),
            Duplicate("se", "Something Else Entirely", COPIED_URL),
        )
    }
    # one id seen twice (a BASE and a HEAD version of an entry): the stronger reason wins,
    # whichever version comes first
    old = _paper("Neural Cleanse", "https://x.org/nc.pdf", pid="nc")
    new = _paper("Neural Cleansing", "https://arxiv.org/abs/1234.56789", pid="nc")
    added = _paper("Neural Cleanse", "https://arxiv.org/pdf/1234.56789v2", pid="new")
    assert (duplicate_reason(added, old), duplicate_reason(added, new)) == (SAME_TITLE, SAME_ARXIV)
    for versions in ([old, new], [new, old]):
        assert find_duplicates([added], versions)["new"] == (
            Duplicate("nc", "Neural Cleansing", SAME_ARXIV),
        )


def test_preprint_status_follows_the_venue_not_the_link() -> None:
    huang = base_paper("Backdoor Defense via Decoupling")  # ICLR 2022, arXiv link
    assert not is_preprint(huang) and is_published(huang)
    zhu = base_paper("Breaking the False Sense")  # @ **Arxiv 2024**
    assert is_preprint(zhu) and not is_published(zhu)
    assert is_preprint(_paper("T", "https://arxiv.org/abs/2101.00001", None))
    assert not is_preprint(_paper("T", "https://x.org/1", None))
    assert is_preprint(_paper("T", None, "arXiv preprint"))


# --- lint ---------------------------------------------------------------------------------
def test_the_bundled_list_has_two_known_problems() -> None:
    parsed = parse_list(BUNDLED)
    assert lint_list(BUNDLED, parsed, parsed, today_year=TODAY) == (
        Problem(12, "the link is empty: () needs the paper's URL", FORMAT),
        Problem(31, "ends without '.', unlike 26 of 27 entries", STYLE),
    )


def test_lint_reports_the_problems_a_pull_request_added() -> None:
    problems = lint_list(
        HEAD_TEXT, HEAD, BASE, today_year=TODAY, only_lines=changed_lines(BASE_TEXT, HEAD_TEXT)
    )
    got = [(p.line, p.kind) for p in problems]
    assert got == [
        (hl("Beyond the Horizon"), FORMAT),
        (hl("Dataset Security"), PLACEMENT),
        (hl("BadNets"), FORMAT),
        (hl("BadNets"), STYLE),
        (hl("Spectral Signatures"), FORMAT),
        (hl("From First Principles"), FORMAT),
        (hl("Against Machine Learning Models"), FORMAT),
    ]
    messages = {p.line: p.message for p in problems if p.kind != STYLE}
    assert "not bold inside its link" in messages[hl("Spectral Signatures")]
    assert messages[hl("Beyond the Horizon")] == "the year 2031 is in the future"
    assert "'Security of ML Models > Backdoor Attacks'" in messages[hl("Dataset Security")]
    assert "Attack Papers, Defense Papers, Theory-driven Papers" in messages[hl("Dataset Security")]
    assert "not in quotes" in messages[hl("BadNets")]
    assert messages[hl("From First Principles")].startswith("the link is empty")
    assert messages[hl("Against Machine Learning")].startswith("no year after the venue 'S&P'")
    style = next(p for p in problems if p.kind == STYLE)
    assert style.message.startswith("ends without '.'")
    assert problems[0].to_dict() == {
        "line": hl("Beyond the Horizon"),
        "kind": FORMAT,
        "message": problems[0].message,
    }


def test_without_a_line_filter_old_problems_show_too() -> None:
    problems = lint_list(HEAD_TEXT, HEAD, today_year=TODAY)
    lines = {p.line for p in problems}
    assert 12 in lines  # the bundled empty link, untouched by the pull request
    assert hl("Breaking the False Sense") not in lines  # its "." was added when it moved


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('- A et al. "Title" (https://x.org) @ **ICML 2020**.', "the title has no link"),
        ("- A et al. **[Title](https://x.org)** @ **ICML 2020**.", "not bold inside its link"),
        ("- A et al. [**“Curly Quotes”**](https://x.org) @ **ICML 2020**.", None),
        ('- A et al. [**"Title"**](https://x.org) @ ICML 2020.', "venue and year are not bold"),
        ('- A et al. [**"Title"**](https://x.org) @ **2020**.', "no venue before the year 2020"),
        ('- A et al. [**"Title"**](https://x.org).', "no venue and year after the title"),
        ("- A et al. [**'Title'**](https://x.org) @ **ICML 2026**.", "the year 2026 is in"),
    ],
)
def test_entry_format(entry: str, message: str | None) -> None:
    well_formed = (
        '- B et al. [**"One"**](https://x.org/1) @ **ICML 2020**.\n'
        '- C et al. [**"Two"**](https://x.org/2) @ **ICML 2020**.\n'
    )
    text = f"# L\n\n## S\n\n{well_formed}{entry}\n"
    problems = lint_list(text, parse_list(text), today_year=TODAY)
    if message is None:
        assert problems == ()
    else:
        [problem] = problems
        assert (problem.line, problem.kind) == (7, FORMAT)
        assert message in problem.message


def test_a_list_in_another_shape_is_not_held_to_the_bundled_form() -> None:
    text = "\n".join(
        [
            "# L",
            "## Attacks",
            "1. **BadNets: Supply Chain Backdoors**. arXiv 2017. [[pdf](https://x.org/1)]",
            "2. **Spectral Signatures in Backdoor Attacks**. NeurIPS 2018. [[pdf](https://x.org/2)]",
            "3. **A Paper From The Future**. ICLR 2031. [[pdf](https://x.org/3)]",
            "4. **A Paper Without A Link**. ICLR 2020. [[code](https://github.com/x/y)]",
            "5. **A Paper Without A Year**. [[pdf](https://x.org/5)]",
        ]
    )
    problems = lint_list(text, parse_list(text), today_year=TODAY)
    assert [(p.line, p.message) for p in problems if p.kind == FORMAT] == [
        (5, "the year 2031 is in the future"),
        (6, "the entry has no link to the paper"),
        (7, "the entry has no year"),  # the parser's warning on that line is not repeated
    ]


def test_line_endings_follow_the_majority() -> None:
    text = "# L\n\n## S\n\n" + "\n".join(
        f'- A et al. [**"T{i}"**](https://x.org/{i}) @ **ICML 2020**{end}'
        for i, end in enumerate([".", ".", ";", ".", ""])
    )
    problems = lint_list(text, parse_list(text), today_year=TODAY)
    assert problems == (
        Problem(7, "ends with ';', most entries end with '.'", STYLE),
        Problem(9, "ends without '.', unlike 3 of 5 entries", STYLE),
    )
    # half and half is no majority, so no rule to break
    even = "# L\n\n## S\n\n" + "\n".join(
        f'- A et al. [**"T{i}"**](https://x.org/{i}) @ **ICML 2020**{end}'
        for i, end in enumerate([".", ".", "", ""])
    )
    assert lint_list(even, parse_list(even), today_year=TODAY) == ()


def test_lint_structure_against_base() -> None:
    lines = BUNDLED.split("\n")
    assert lines[52] == "#### Theory-driven Papers"  # the backdoor one, holding Li et al.
    del lines[52]
    text = "\n".join(lines)
    text = replace(text, "### Membership Inference Attacks\n", "")  # empty: no problem
    doubled = (
        '#### Defense Papers\n\n- Kim et al. [**"Robust Models by Design"**]'
        "(https://x.org/r) @ **ICML 2020**.\n"
    )
    text = insert(text, "### Backdoor Attacks", doubled, after=False)
    problems = lint_list(
        text,
        parse_list(text),
        parse_list(BUNDLED),
        today_year=TODAY,
        only_lines=changed_lines(BUNDLED, text),
    )
    assert problems == (
        Problem(
            line_of(text, "### Backdoor Attacks") - 4,
            "the heading 'Security of ML Models > Adversarial Attacks > Defense Papers' "
            "appears twice (first at line 14)",
            STRUCTURE,
        ),
        Problem(
            line_of(text, "A Theoretical Analysis of Backdoor"),
            "the heading 'Security of ML Models > Backdoor Attacks > Theory-driven Papers' "
            "(line 53 in BASE) was removed or renamed while it held 1 entry",
            STRUCTURE,
        ),
    )
    # a removal leaves no line to point at, so no line filter hides it
    kept = lint_list(
        text, parse_list(text), parse_list(BUNDLED), today_year=TODAY, only_lines=set()
    )
    assert [p.message[:40] for p in kept] == [problems[1].message[:40]]


def test_a_renamed_parent_heading_is_reported_once() -> None:
    text = replace(BUNDLED, "### Backdoor Attacks", "### Backdoor Poisoning")
    problems = lint_list(
        text, parse_list(text), parse_list(BUNDLED), only_lines=set(), today_year=TODAY
    )
    assert problems == (
        Problem(
            31,
            "the heading 'Security of ML Models > Backdoor Attacks' (line 27 in BASE) "
            "was removed or renamed while it held 19 entries",
            STRUCTURE,
        ),
    )


def test_unparsed_entry_outside_a_list_is_reported_from_parser_warnings() -> None:
    text = insert(
        BUNDLED,
        "### Membership Inference Attacks",
        '\nShokri et al. [**"MIA"**](https://x.org/m) @ **S&P 2017**.',
    )
    problems = lint_list(text, parse_list(text), today_year=TODAY, only_lines={60})
    assert problems == (Problem(60, "this looks like an entry but is not a list item", FORMAT),)


# --- year order ---------------------------------------------------------------------------
def test_bundled_sections_run_newest_first() -> None:
    assert section_orders(parse_list(BUNDLED)) == {
        ADV_DEF: NEWEST_FIRST,
        ADV_THEORY: NEWEST_FIRST,
        BKD_ATT: NEWEST_FIRST,
        BKD_DEF: NEWEST_FIRST,
    }


def test_order_problems_name_where_the_entry_belongs() -> None:
    added = {p.id for p in diff_lists(BASE, HEAD).added}
    problems = order_problems(BASE, HEAD, added)
    assert problems == (
        OrderProblem(
            id=head_paper("Beyond the Horizon").id,
            title="Adversarial Training Beyond the Horizon",
            line=hl("Beyond the Horizon"),
            section=ADV_THEORY,
            year=2031,
            order=NEWEST_FIRST,
            anchor="before",
            anchor_line=hl("Not Bugs, They Are Features"),
            anchor_year=2019,
        ),
        OrderProblem(
            id=head_paper("Activation Clustering").id,
            title="Detecting Backdoor Attacks on Deep Neural Networks by Activation Clustering",
            line=hl("Activation Clustering"),
            section=BKD_DEF,
            year=2019,
            order=NEWEST_FIRST,
            anchor="after",
            anchor_line=hl("Neural Cleanse: Identifying"),
            anchor_year=2019,
        ),
    )
    assert problems[1].message.endswith(
        f"belongs after line {hl('Neural Cleanse: Identifying')} (year 2019)"
    )
    assert problems[0].to_dict()["kind"] == "order"


@pytest.mark.parametrize(
    ("years", "order"),
    [
        ([2018, 2019, 2019, 2021], OLDEST_FIRST),
        ([2021, 2021, 2019], NEWEST_FIRST),
        ([2019, 2021], None),
        ([2020, 2020, 2020], None),
        ([2019, 2021, 2020], None),
    ],
)
def test_section_order_detection(years: list[int], order: str | None) -> None:
    text = "# L\n\n## S\n\n" + "\n".join(
        f'- A et al. [**"T{i}"**](https://x.org/{i}) @ **ICML {y}**.' for i, y in enumerate(years)
    )
    assert section_orders(parse_list(text)).get(("S",)) == order


def test_oldest_first_section_and_a_misplaced_addition() -> None:
    rows = [(2018, "a"), (2019, "b"), (2021, "c")]
    entry = '- A et al. [**"{t}"**](https://x.org/{t}) @ **ICML {y}**.'
    base = "# L\n\n## S\n\n" + "\n".join(entry.format(t=t, y=y) for y, t in rows)
    head = insert(base, "x.org/a", entry.format(t="new", y=2020))
    head_list = parse_list(head)
    new = next(p for p in head_list.papers if p.title == "new")
    [problem] = order_problems(parse_list(base), head_list, {new.id})
    assert (problem.line, problem.order, problem.anchor, problem.anchor_line) == (
        6,
        OLDEST_FIRST,
        "after",
        7,
    )
    placed = insert(base, "x.org/b", entry.format(t="new", y=2020))
    placed_list = parse_list(placed)
    assert order_problems(parse_list(base), placed_list, {new.id}) == ()


# --- the larger list the end-to-end check-pr tests also run on -------------------------------
def test_the_larger_list_holds_every_fixture_entry_in_year_order() -> None:
    from .larger_list import FIXTURE, larger_list

    bundled = parse_list(BUNDLED)
    extra = parse_list(FIXTURE.read_text(encoding="utf-8"))
    merged = parse_list(larger_list(BUNDLED))
    assert merged.warnings == bundled.warnings
    assert len(merged.papers) == len(bundled.papers) + len(extra.papers) >= 70
    titles = {(p.title, p.section) for p in merged.papers}
    assert {(p.title, p.section) for p in (*bundled.papers, *extra.papers)} == titles
    counts = {s.path: s.count for s in merged.sections}
    assert counts[("Security of ML Models", "Model Extraction Attacks")] == 4
    assert counts[("ML for Security Systems",)] == 8
    orders = section_orders(merged)
    assert all(order == NEWEST_FIRST for order in orders.values())
    assert len(orders) == 9  # every section with three or more dated entries
