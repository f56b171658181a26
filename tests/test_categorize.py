"""Categorisation mechanics with the fake embedder: every section, confidences, abstention."""

from __future__ import annotations

from secml_papers.service.library import Library


def test_every_section_that_can_hold_entries_is_ranked(fake_library: Library) -> None:
    result = fake_library.categorizer.categorize("Backdoor defense via neural network pruning")
    holders = {s.path for s in fake_library.paper_list.sections if s.can_hold_entries}
    assert {s.section for s in result.suggestions} == holders
    assert len(result.suggestions) == 8
    confidences = [s.confidence for s in result.suggestions]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) <= 1.0 + 1e-9  # the rest is "none of these"


def test_evidence_comes_from_the_suggested_section(fake_library: Library) -> None:
    result = fake_library.categorizer.categorize("Backdoor Defense via Adaptively Pruning")
    by_id = fake_library.paper_list.by_id()
    for suggestion in result.suggestions:
        assert len(suggestion.evidence) <= 3
        assert all(by_id[i].section == suggestion.section for i in suggestion.evidence)
    empty = [s for s in result.suggestions if s.section[-1] == "Membership Inference Attacks"]
    assert empty and empty[0].evidence == ()


def test_heading_words_reach_an_empty_section(fake_library: Library) -> None:
    result = fake_library.categorizer.categorize("membership inference attacks")
    assert result.suggestions[0].section[-1] == "Membership Inference Attacks"


def test_off_topic_abstains(fake_library: Library) -> None:
    # the fake embedder counts shared stop words ("a", "for") as topic, so none here
    result = fake_library.categorizer.categorize("Sourdough bread recipe")
    assert result.abstain
    assert result.suggestions[0].confidence < 0.5


def test_temperature_is_fitted_and_positive(fake_library: Library) -> None:
    categorizer = fake_library.categorizer
    assert 0.2 <= categorizer.temperature <= 5.0
    assert categorizer.held_out is not None  # the combiner was fitted on the list itself
    assert categorizer.held_out.shape == (27, 8)
