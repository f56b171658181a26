"""The word probe (index/categorize/word_probe.py): its left-out scores are those of a probe
fitted without the entries left out, and its words separate sections the way a list does."""

import numpy as np
import pytest

from secml_papers.corpus.records import Paper, Section
from secml_papers.index.categorize.categorizer import Categorizer
from secml_papers.index.categorize.features import FEATURES
from secml_papers.index.categorize.tfidf import tokens
from secml_papers.index.categorize.word_probe import WordProbe

TITLES = [
    "Jailbreak prompts that bypass LLM safety",
    "Universal jailbreak suffixes for aligned models",
    "Many-shot jailbreaking of chat assistants",
    "Multi-turn jailbreak attacks on language models",
    "Measuring gender bias in language models",
    "Fairness of toxicity classifiers across dialects",
    "Debiasing word embeddings for fair NLP",
    "Demographic bias in LLM-based hiring",
    "Watermarking the outputs of language models",
    "Robust watermark for LLM generated text",
    "Detecting watermarked text with statistical tests",
]
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2])


def refit_without(block: list[int]) -> WordProbe:
    """A probe fitted from scratch without ``block``, on the same vocabulary and centring
    (what the left-out formulas hold fixed)."""
    probe = WordProbe(TITLES, LABELS, 3)
    keep = np.setdiff1d(np.arange(len(TITLES)), block)
    x = probe.x[keep]
    gram = np.asarray((x @ x.T).todense()) + 1.0 + probe.ridge * np.eye(len(keep))
    alpha = np.linalg.solve(gram, probe.y[keep])
    probe.x, probe._alpha = x, alpha
    return probe


def test_leave_one_out_equals_a_probe_fitted_without_the_entry():
    probe = WordProbe(TITLES, LABELS, 3)
    loo = probe.leave_one_out()
    for i in (0, 5, 10):
        other = refit_without([i])
        expected = other.kernel(probe.x[i]) @ other.alpha + probe.mean
        np.testing.assert_allclose(loo[i], expected[0], atol=1e-9)


def test_block_out_and_predict_without_equal_a_refit():
    probe = WordProbe(TITLES, LABELS, 3)
    block = np.array([4, 5, 6, 7])  # a whole section emptied
    other = refit_without(list(block))
    refit_scores = other.kernel(probe.x[block]) @ other.alpha + probe.mean
    np.testing.assert_allclose(probe.block_out(block), refit_scores, atol=1e-9)
    new = ["Bias audit of language models"]
    refit_new = other.kernel(probe.transform(new)) @ other.alpha + probe.mean
    np.testing.assert_allclose(probe.predict_without(new, block), refit_new, atol=1e-9)


def test_forget_drops_the_inverse_and_the_answers_stay():
    probe = WordProbe(TITLES, LABELS, 3)
    before, new = probe.leave_one_out(), probe.predict(["A jailbreak"])
    probe.forget()
    assert probe._inverse is None
    np.testing.assert_allclose(probe.predict(["A jailbreak"]), new)
    np.testing.assert_allclose(probe.leave_one_out(), before)


def test_a_probe_that_only_predicts_solves_without_the_inverse():
    solved, inverted = WordProbe(TITLES, LABELS, 3), WordProbe(TITLES, LABELS, 3)
    inverted.leave_one_out()  # the fit's path: the inverse too
    scores = solved.predict(["Watermark removal"])
    assert solved._inverse is None
    np.testing.assert_allclose(scores, inverted.predict(["Watermark removal"]), atol=1e-9)


@pytest.mark.parametrize(
    ("title", "section"),
    [
        ("A new jailbreak of aligned chat models", 0),
        ("Bias and fairness in dialogue systems", 1),
        ("Removing a watermark from generated text", 2),
    ],
)
def test_the_words_that_separate_sections_decide(title, section):
    scores = WordProbe(TITLES, LABELS, 3).predict([title])[0]
    assert int(np.argmax(scores)) == section


@pytest.mark.parametrize(
    ("title", "section"),
    [
        ("Jailbroken chatbots", 0),  # no word of it is in the list: "jailbr" is
        ("Unfairness among recruiters", 1),
        ("Unwatermarkable generations", 2),
    ],
)
def test_forms_of_a_word_count_through_their_character_grams(title, section):
    assert not set(tokens(title)) & {w for t in TITLES for w in tokens(t)}
    scores = WordProbe(TITLES, LABELS, 3).predict([title])[0]
    others = np.delete(scores, section)
    assert scores[section] > others.max() + 0.1  # words alone give every title the mean


def _categorizer(embedder) -> Categorizer:
    papers = [
        Paper(f"p{i}", t, "", None, 2024, None, (SECTIONS[j],), i)
        for i, (t, j) in enumerate(zip(TITLES, LABELS, strict=True))
    ]
    sections = [Section((s,), i, count=list(LABELS).count(i)) for i, s in enumerate(SECTIONS)]
    vectors = embedder.embed(TITLES)
    return Categorizer(papers, vectors, sections, embedder)


SECTIONS = ("Jailbreak", "Fairness", "Watermark")


def test_the_categorizer_reads_the_word_probe(fake_embedder):
    """The combiner's ``words`` feature is the probe's: its left-out scores while fitting,
    its predictions for a new title; the fit drops the probe's inverse."""
    cat = _categorizer(fake_embedder)
    column = FEATURES.index("words")
    expected = WordProbe(TITLES, LABELS, 3).leave_one_out()
    np.testing.assert_allclose(cat.loo_features[:, :, column], expected, atol=1e-9)
    assert cat.words._inverse is None  # dropped once the fit had its left-out scores
    title = "Bias and fairness in dialogue systems"
    features = cat.features(fake_embedder.embed([title]), [title])
    np.testing.assert_allclose(features[0, :, column], cat.words.predict([title])[0])
    assert int(np.argmax(features[0, :, column])) == SECTIONS.index("Fairness")


def test_an_entry_placed_without_itself_is_left_out_of_the_word_probe(fake_embedder):
    cat = _categorizer(fake_embedder)
    column = FEATURES.index("words")
    hidden = np.zeros((1, len(TITLES)), dtype=bool)
    hidden[0, 5] = True
    features = cat.features(cat.vectors[5:6], [TITLES[5]], hidden)
    np.testing.assert_allclose(features[0, :, column], cat.words.leave_one_out()[5], atol=1e-9)
