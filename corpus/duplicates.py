"""Is an added entry already in the list? Identity by arXiv id, DOI, title and link.

Also home of the title-similarity rules that :mod:`secml_papers.corpus.diff` uses to pair the
two versions of an entry, so "the same paper" means one thing across the pull-request check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz

from secml_papers.corpus.ids import arxiv_id, doi, normalise_title, normalise_url
from secml_papers.corpus.records import Paper

# ``fuzz.ratio`` (0..100) of normalised titles at or above which two titles are one title
# written twice. Typo fixes and inflections score well above it:
#   "are adversarial examples inevitable" / "... exmaples ..."                       97.1
#   "towards deep learning models resistant to adversarial attacks" / "... attack"   99.2
#   "on the adversarial robustness of vision transformers" / "... visual ..."         94.2
#     (Shao et al.'s arXiv v1 title and its TMLR title: one paper)
# while different papers sharing a title template fall below it:
#   "adversarial examples in the physical world" / "... physical domain"              89.4
#   "certified adversarial robustness via randomized smoothing" /
#   "certified robustness via randomized smoothing"                                   88.2
# and the closest two distinct papers of the bundled list score 71.8.
NEAR_IDENTICAL = 90.0

# ``fuzz.token_set_ratio`` at or above which two titles may name one paper *when an
# identifier (arXiv id, DOI or URL) already says so*. It forgives a dropped or added subtitle,
# which published versions often have ("deepsight mitigating backdoor attacks in federated
# learning [through deep model inspection]" scores 100, "robust physical world attacks on deep
# learning models / visual classification" 92.9), but not a link copied under another paper's
# title: distinct papers of the bundled list score at most 67.9, "membership inference attacks
# against machine learning models / from first principles" 72.7.
RELATED = 80.0

SAME_ARXIV = "same arXiv id"
SAME_DOI = "same DOI"
SAME_TITLE = "same title"
PREPRINT = "preprint of a published entry"
PUBLISHED = "published version of an arXiv entry"
SAME_URL = "same URL"
COPIED_URL = "same URL, different title"
# Strongest first: one reason is kept per (added, existing) pair.
REASONS = (SAME_ARXIV, SAME_DOI, SAME_TITLE, PREPRINT, PUBLISHED, SAME_URL, COPIED_URL)

_PREPRINT_VENUES = {"arxiv", "corr"}


def title_ratio(a: str, b: str) -> float:
    """Similarity of two titles (0..100) once case, accents and punctuation are folded."""
    return fuzz.ratio(normalise_title(a), normalise_title(b))


def near_identical_titles(a: str, b: str) -> bool:
    """One title written twice, up to a typo: see :data:`NEAR_IDENTICAL`."""
    return title_ratio(a, b) >= NEAR_IDENTICAL


def related_titles(a: str, b: str) -> bool:
    """Titles close enough to trust a shared identifier: see :data:`RELATED`."""
    na, nb = normalise_title(a), normalise_title(b)
    return (
        na == nb or fuzz.ratio(na, nb) >= NEAR_IDENTICAL or fuzz.token_set_ratio(na, nb) >= RELATED
    )


@dataclass(frozen=True)
class Identifiers:
    """What a link says about a paper: its arXiv id, DOI and normalised URL."""

    arxiv: str | None
    doi: str | None
    url: str | None

    @classmethod
    def of(cls, paper: Paper) -> Identifiers:
        return cls(arxiv_id(paper.url), doi(paper.url), normalise_url(paper.url))

    def shared(self, other: Identifiers) -> tuple[str, ...]:
        """The kinds of identifier both carry with one value, strongest first."""
        pairs = (
            ("arXiv id", self.arxiv, other.arxiv),
            ("DOI", self.doi, other.doi),
            ("URL", self.url, other.url),
        )
        return tuple(kind for kind, mine, theirs in pairs if mine and mine == theirs)

    def conflicts(self, other: Identifiers) -> bool:
        """Both name an arXiv id, or both a DOI, and they differ: two papers.

        Differing plain URLs are no conflict: fixing a broken link is an ordinary edit.
        """
        return bool(
            (self.arxiv and other.arxiv and self.arxiv != other.arxiv)
            or (self.doi and other.doi and self.doi != other.doi)
        )


def is_preprint(paper: Paper) -> bool:
    """Listed as an arXiv/CoRR preprint, e.g. ``@ **Arxiv 2024**``.

    An arXiv link alone does not make a preprint: the list links many published papers to
    arXiv (``[**"Backdoor Defense via Decoupling..."**](https://arxiv.org/pdf/2202.03423) @
    **ICLR 2022**``), so the link only counts when no venue is given.
    """
    if paper.venue is None:
        return arxiv_id(paper.url) is not None
    venue = normalise_title(paper.venue)
    return venue in _PREPRINT_VENUES or venue.startswith("arxiv ")


def is_published(paper: Paper) -> bool:
    """Listed with a real venue (a conference, journal or workshop)."""
    return paper.venue is not None and not is_preprint(paper)


@dataclass(frozen=True)
class Duplicate:
    """An entry that an added paper duplicates, and the strongest reason to think so."""

    id: str
    title: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def duplicate_reason(added: Paper, other: Paper) -> str | None:
    """The strongest of :data:`REASONS` that ``added`` duplicates ``other``, or None.

    A shared identifier under a clearly different title is a link copied from another entry,
    not a second listing of that paper, so it is reported as :data:`COPIED_URL` whichever
    identifier matched (an arXiv abs link copied from a pdf link is the same link).
    """
    mine, theirs = Identifiers.of(added), Identifiers.of(other)
    same_title = normalise_title(added.title) == normalise_title(other.title)
    related = same_title or related_titles(added.title, other.title)
    if mine.arxiv and mine.arxiv == theirs.arxiv:
        return SAME_ARXIV if related else COPIED_URL
    if mine.doi and mine.doi == theirs.doi:
        return SAME_DOI if related else COPIED_URL
    if same_title:
        return SAME_TITLE
    if near_identical_titles(added.title, other.title):
        if is_preprint(added) and is_published(other):
            return PREPRINT
        if is_published(added) and is_preprint(other):
            return PUBLISHED
    if mine.url and mine.url == theirs.url:
        return SAME_URL if related else COPIED_URL
    return None


def find_duplicates(
    added: Sequence[Paper], existing: Sequence[Paper]
) -> dict[str, tuple[Duplicate, ...]]:
    """For each added paper's id, the existing entries and earlier added papers it duplicates.

    Every added id is a key (an empty tuple when it duplicates nothing), in ``added`` order;
    its duplicates come strongest reason first. Checking added papers against each other
    catches a paper pasted twice: the second copy is reported, pointing at the first.
    """
    rank = {reason: i for i, reason in enumerate(REASONS)}
    result: dict[str, tuple[Duplicate, ...]] = {}
    for i, paper in enumerate(added):
        found: dict[str, Duplicate] = {}
        for other in (*existing, *added[:i]):
            if other == paper:
                continue
            reason = duplicate_reason(paper, other)
            if reason is None:
                continue
            kept = found.get(other.id)
            if kept is None or rank[reason] < rank[kept.reason]:
                found[other.id] = Duplicate(other.id, other.title, reason)
        result[paper.id] = tuple(sorted(found.values(), key=lambda d: rank[d.reason]))
    return result
