"""A long list's nearby version borrows the served fit (index/categorize/reuse.py)."""

from __future__ import annotations

import random

from secml_papers.corpus.parse import parse_list
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.categorize.placement import place_added
from secml_papers.index.categorize.reuse import borrowed

TOPICS = {"Backdoors": "trigger backdoor trojan", "Privacy": "membership inference privacy",
          "Evasion": "adversarial perturbation evasion"}  # fmt: skip
FILLER = ["model", "learning", "network", "deep", "robust", "data", "training", "method", "study"]


def markdown(per_section: int, skip: int = 0, extra: int = 0) -> str:
    lines = ["# A long list", ""]
    for name, words in TOPICS.items():
        lines += [f"## {name}", ""]
        for i in range(skip, per_section + extra):
            rng = random.Random(f"{name} {i}")  # an entry's title is the same in every version
            title = " ".join([*rng.sample(words.split(), 2), *rng.sample(FILLER, 3), str(i)])
            lines.append(f"- [{name} {i}: {title}](https://x.org/{name}/{i}) 2024")
        lines.append("")
    return "\n".join(lines)


def test_a_nearby_version_borrows_and_a_far_one_does_not(fake_embedder, monkeypatch) -> None:
    served = parse_list(markdown(700))  # 2,100 entries: above the borrowing threshold
    vectors = fake_embedder.embed([p.title for p in served.papers])
    fitted = Categorizer(served.papers, vectors, served.sections, fake_embedder)
    _ = fitted.temperature
    nearby = parse_list(markdown(700, skip=2, extra=3))  # 15 entries in, 6 out: under 1%
    near_vectors = fake_embedder.embed([p.title for p in nearby.papers])
    other = borrowed(fitted, nearby.papers, near_vectors, nearby.sections)
    assert other is not None and other.model is fitted.model
    assert other.off_topic_below == fitted.off_topic_below
    found = other.categorize("trigger backdoor trojan model 9999")
    assert found.suggestions[0].section == ("Backdoors",)
    added = parse_list(markdown(700, extra=1)).papers[-1:]  # an Evasion paper

    def refused(*_args, **_kwargs):
        raise AssertionError("check-pr fitted its own categorizer")

    monkeypatch.setattr("secml_papers.index.categorize.placement.Categorizer", refused)
    placed = place_added(nearby.papers, near_vectors, nearby.sections, added, fake_embedder, fitted)
    assert placed[0].suggestions[0].section == ("Evasion",)
    far = parse_list(markdown(700, skip=20, extra=20))  # 120 entries in, 60 out
    far_vectors = fake_embedder.embed([p.title for p in far.papers])
    assert borrowed(fitted, far.papers, far_vectors, far.sections) is None


def test_a_short_list_always_fits_its_own(fake_embedder) -> None:
    served = parse_list(markdown(30))
    vectors = fake_embedder.embed([p.title for p in served.papers])
    fitted = Categorizer(served.papers, vectors, served.sections, fake_embedder)
    _ = fitted.temperature
    nearby = parse_list(markdown(30, extra=1))
    near_vectors = fake_embedder.embed([p.title for p in nearby.papers])
    assert borrowed(fitted, nearby.papers, near_vectors, nearby.sections) is None
