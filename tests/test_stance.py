"""The stance model: the kinds of section it knows, which sections it tilts, its file round
trip, its effect on placement."""

from __future__ import annotations

import numpy as np
import pytest

from secml_papers.corpus.parse import parse_list
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.categorizer import Categorizer

EXAMPLES = {
    "one": [
        ("Defending graph networks with robust training", "defense"),
        ("Certified robustness of classifiers", "defense"),
        ("Detecting and mitigating poisoned samples", "defense"),
        ("Robust defending of classifiers", "defense"),
        ("Attacking graph networks with perturbations", "attack"),
        ("Adversarial attacks fooling classifiers", "attack"),
        ("Poisoning attacks on graph networks", "attack"),
        ("Fooling classifiers with attacks", "attack"),
        ("Graph robustness in general", ""),
    ]
}
SURVEYS = {
    "two": [
        ("A survey of attacks on graph networks", "survey"),
        ("Attacks on classifiers: a survey", "survey"),
        ("A survey of defending classifiers", "survey"),
    ]
}

LIST = """# Graph robustness

## Attack Papers
- [Attacking graph networks with perturbations](https://x.org/1) 2020
- [Adversarial attacks fooling graph networks](https://x.org/2) 2020
- [Poisoning attacks on graph networks](https://x.org/3) 2021
- [Fooling graph networks with attacks](https://x.org/4) 2021
- [Graph networks under attacks](https://x.org/5) 2022

## Defense Papers
- [Defending graph networks with robust training](https://x.org/6) 2020
- [Certified robustness of graph networks](https://x.org/7) 2021
- [Detecting and mitigating poisoned graph networks](https://x.org/8) 2021
- [Robust defending of graph networks](https://x.org/9) 2022
"""


def defense_minus_attack(model: stance.Stance, title: str) -> float:
    log_p = model.log_probabilities([title])[0]
    return float(log_p[model.kinds.index("defense")] - log_p[model.kinds.index("attack")])


def test_kind_follows_the_nearest_heading_that_names_one() -> None:
    assert stance.kind(("Backdoor Attacks", "Defense Papers")) == "defense"
    assert stance.kind(("Backdoor Attacks", "Attack Papers")) == "attack"
    assert stance.kind(("4. Certified Robustness Papers",)) == "certified"
    assert stance.kind(("2. Attack Papers", "2.1 Targeted Attack")) == "attack"
    assert stance.kind(("1. Survey Papers",)) == "survey"
    assert stance.kind(("5. Benchmark and Evaluation",)) == "benchmark"
    assert stance.kind(("Membership Inference Attacks",)) == ""
    assert stance.kind(("ML for Security Systems",)) == ""


def test_fit_round_trips_through_its_file() -> None:
    model = stance.fit(EXAMPLES)
    again = stance.Stance.from_json(model.to_json())
    titles = ["Defending classifiers", "Attacks fooling graph networks", "unrelated words"]
    np.testing.assert_allclose(
        again.log_probabilities(titles), model.log_probabilities(titles), atol=1e-5
    )
    assert again.kinds == model.kinds == ("attack", "defense")
    assert defense_minus_attack(model, "Defending classifiers") > 0
    assert defense_minus_attack(model, "Fooling attacks") < 0
    assert model.trained_on == {"one": 8}  # the title of no kind is left out
    with pytest.raises(ValueError, match="at least two kinds"):
        stance.fit({"one": [("Attacks", "attack"), ("More attacks", "attack")]})


def test_more_than_two_kinds_round_trip_and_read_their_words() -> None:
    model = stance.fit({**EXAMPLES, **SURVEYS})
    assert model.kinds == ("attack", "defense", "survey")
    again = stance.Stance.from_json(model.to_json())
    titles = ["A survey of graph networks", "Defending classifiers", "Fooling attacks"]
    np.testing.assert_allclose(
        again.log_probabilities(titles), model.log_probabilities(titles), atol=1e-5
    )
    assert [model.kinds[k] for k in model.log_probabilities(titles).argmax(axis=1)] == [
        "survey",
        "defense",
        "attack",
    ]


@pytest.mark.parametrize("examples", [EXAMPLES, {**EXAMPLES, **SURVEYS}])
def test_log_probabilities_are_the_fitted_pipelines_own(examples) -> None:
    """The hand-written transform gives what scikit-learn's TF-IDF and regression give:
    its own word analyzer (words and word pairs) and its ``char_wb`` n-grams."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    model = stance.fit(examples)
    titles = ["Defending graph networks, robust robust training!", "Attacks", "nothing known"]
    words = TfidfVectorizer(
        vocabulary=model.words.vocabulary, ngram_range=(1, 2), sublinear_tf=True
    )
    chars = TfidfVectorizer(
        vocabulary=model.chars.vocabulary,
        analyzer="char_wb",
        ngram_range=stance.CHARS,
        sublinear_tf=True,
    )
    words.idf_, chars.idf_ = model.words.idf, model.chars.idf
    x = sparse.hstack([words.transform(titles), chars.transform(titles)])
    logits = x @ np.vstack([model.words.weights, model.chars.weights]) + model.intercepts
    expected = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(
        model.log_probabilities(titles), np.maximum(expected, stance.FLOOR), atol=1e-9
    )


def test_character_grams_are_scikit_learns() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyse = TfidfVectorizer(analyzer="char_wb", ngram_range=stance.CHARS).build_analyzer()
    for title in [
        "Certifiable  Robustness of GCN",
        "A b cd\tefg",
        "Don’t take “nswvtnvakgxpm” for an answer",
        "x",
        "",
    ]:
        assert stance.char_terms(title) == analyse(title)


def test_offsets_only_where_the_list_has_two_kinds() -> None:
    model = stance.fit(EXAMPLES)
    split = [("Attack Papers",), ("Defense Papers",), ("Related Topics",)]
    out = model.offsets(["Defending classifiers", ""], split)
    assert out[0, 0] < 0 < out[0, 1] and out[0, 2] == 0
    assert out[0, 0] == pytest.approx(-out[0, 1])  # centred on the kinds the list has
    assert not out[1].any()  # no title, no stance
    topics = [("Backdoor Attacks",), ("Membership Inference",)]
    assert not model.offsets(["Defending classifiers"], topics).any()
    one_kind = [("Attack Papers",), ("Related Topics",)]
    assert not model.offsets(["Defending classifiers"], one_kind).any()


def test_the_stance_moves_a_defense_title_toward_the_defense_section(fake_embedder) -> None:
    parsed = parse_list(LIST)
    vectors = fake_embedder.embed([p.title for p in parsed.papers])
    title = "Graph networks against poisoning: defending and mitigating"

    def confidence_of_defense(model) -> float:
        with stance.using(model):
            cat = Categorizer(parsed.papers, vectors, parsed.sections, fake_embedder)
        found = cat.categorize(title)
        return next(s.confidence for s in found.suggestions if s.section == ("Defense Papers",))

    without, with_it = confidence_of_defense(None), confidence_of_defense(stance.fit(EXAMPLES))
    assert with_it > without
    assert stance.active() is stance.shipped()  # the override ended with its block


def test_the_shipped_model_reads_the_common_words() -> None:
    model = stance.shipped()
    assert model is not None and sum(model.trained_on.values()) >= 300
    assert set(model.kinds) == set(stance.KINDS)
    defended = "GNNGuard: Defending Graph Neural Networks against Adversarial Attacks"
    attacked = "Adversarial Attacks on Neural Networks for Graph Data"
    assert defense_minus_attack(model, defended) > 0 > defense_minus_attack(model, attacked)
    sections = [("3. Defense Papers",), ("4. Certified Robustness Papers",), ("2. Attack Papers",)]
    certified = model.offsets(["Certifiable Robustness of Graph Convolutional Networks"], sections)
    assert certified[0, 1] > certified[0, 0] > certified[0, 2]
    surveyed = model.offsets(
        ["A Survey on Adversarial Attacks and Defenses"],
        [("1. Survey Papers",), ("2. Attack Papers",), ("3. Defense Papers",)],
    )
    assert surveyed[0, 0] == surveyed[0].max()
