"""The stance model: which sections it tilts, its file round trip, its effect on placement."""

from __future__ import annotations

import numpy as np
import pytest

from secml_papers.corpus.parse import parse_list
from secml_papers.index.categorize import stance
from secml_papers.index.categorize.categorizer import Categorizer

EXAMPLES = {
    "one": [
        ("Defending graph networks with robust training", 1.0),
        ("Certified robustness of classifiers", 1.0),
        ("Detecting and mitigating poisoned samples", 1.0),
        ("Robust defending of classifiers", 1.0),
        ("Attacking graph networks with perturbations", -1.0),
        ("Adversarial attacks fooling classifiers", -1.0),
        ("Poisoning attacks on graph networks", -1.0),
        ("Fooling classifiers with attacks", -1.0),
        ("A survey of the field", 0.0),
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


def test_sign_follows_the_nearest_heading_that_names_a_kind() -> None:
    assert stance.sign(("Backdoor Attacks", "Defense Papers")) == 1.0
    assert stance.sign(("Backdoor Attacks", "Attack Papers")) == -1.0
    assert stance.sign(("4. Certified Robustness Papers",)) == 1.0
    assert stance.sign(("2. Attack Papers", "2.1 Targeted Attack")) == -1.0
    assert stance.sign(("Membership Inference Attacks",)) == 0.0
    assert stance.sign(("ML for Security Systems",)) == 0.0


def test_fit_round_trips_through_its_file() -> None:
    model = stance.fit(EXAMPLES)
    again = stance.Stance.from_json(model.to_json())
    titles = ["Defending classifiers", "Attacks fooling graph networks", "unrelated words"]
    np.testing.assert_allclose(again.scores(titles), model.scores(titles), atol=1e-5)
    assert model.scores(["Defending classifiers"])[0] > 0 > model.scores(["Fooling attacks"])[0]
    assert model.trained_on == {"one": 8}  # the neutral title is left out
    with pytest.raises(ValueError, match="both attack and defense"):
        stance.fit({"one": [("Attacks", -1.0), ("More attacks", -1.0)]})


def test_scores_are_the_fitted_pipelines_own() -> None:
    """The hand-written transform gives what scikit-learn's TF-IDF and regression give."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    model = stance.fit(EXAMPLES)
    titles = ["Defending graph networks, robust robust training!", "Attacks", "nothing known"]
    tfidf = TfidfVectorizer(vocabulary=model.vocabulary, ngram_range=(1, 2), sublinear_tf=True)
    tfidf.idf_ = model.idf
    expected = np.clip(tfidf.transform(titles) @ model.weights + model.intercept, -4, 4)
    np.testing.assert_allclose(model.scores(titles), expected, atol=1e-9)


def test_offsets_only_where_the_list_splits_attacks_from_defenses() -> None:
    model = stance.fit(EXAMPLES)
    split = [("Attack Papers",), ("Defense Papers",), ("Surveys",)]
    out = model.offsets(["Defending classifiers", ""], split)
    assert out[0, 0] < 0 < out[0, 1] and out[0, 2] == 0
    assert not out[1].any()  # no title, no stance
    topics = [("Backdoor Attacks",), ("Membership Inference",)]
    assert not model.offsets(["Defending classifiers"], topics).any()


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
    defended, attacked = model.scores(
        [
            "GNNGuard: Defending Graph Neural Networks against Adversarial Attacks",
            "Adversarial Attacks on Neural Networks for Graph Data",
        ]
    )
    assert defended > 0 > attacked
