"""Calibration and abstention of the categoriser, on synthetic features and the fake embedder."""

from __future__ import annotations

import numpy as np

from secml_papers.index.categorize.calibration import (
    fit_calibrated,
    fit_combiner,
    fit_gain,
    fit_temperature,
    softmax,
)
from secml_papers.index.evaluation.evaluate import (
    expected_calibration_error,
    leave_one_out,
    outcomes,
    scores,
)
from secml_papers.service.library import Library


def _synthetic(n: int, sections: int, signal: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One informative feature (true section + noise) and one pure-noise feature."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, sections, n)
    informative = rng.normal(size=(n, sections))
    informative[np.arange(n), truth] += signal
    return np.stack([informative, rng.normal(size=(n, sections))], axis=2), truth


def test_combiner_learns_the_informative_feature() -> None:
    features, truth = _synthetic(400, 6, 2.0, seed=1)
    model = fit_combiner(features, truth)
    assert model.weights[0] > 5 * abs(model.weights[1])


def test_calibrated_confidences_match_accuracy_on_new_data() -> None:
    features, truth = _synthetic(600, 6, 1.5, seed=2)
    model, held_out = fit_calibrated(features, truth)
    new_features, new_truth = _synthetic(2000, 6, 1.5, seed=3)
    found = outcomes(model.probabilities(new_features), new_truth, [(str(j),) for j in range(6)])
    assert expected_calibration_error(found) < 0.05
    assert held_out.shape == (600, 6)


def test_temperature_undoes_overconfidence() -> None:
    features, truth = _synthetic(800, 5, 1.0, seed=4)
    model = fit_combiner(features, truth)
    logits = model.logits(features) * 4  # four times too sure
    t = fit_temperature(logits, truth)
    assert 3.0 <= t <= 5.0
    rows = np.arange(len(truth))
    before = -np.mean(np.log(softmax(logits)[rows, truth]))
    after = -np.mean(np.log(softmax(logits / t)[rows, truth]))
    assert after < before


def test_gain_follows_how_far_the_offsets_agree_with_the_list() -> None:
    """An evidence learnt elsewhere (the stance) is weighed by the list's held-out entries:
    offsets that point at the true sections get a gain, offsets that point elsewhere none."""
    features, truth = _synthetic(600, 4, 1.0, seed=3)
    logits = features[..., 0]
    rng = np.random.default_rng(4)
    agreeing = np.zeros_like(logits)
    right = rng.random(len(truth)) < 0.8  # right four times in five
    agreeing[np.arange(len(truth)), np.where(right, truth, (truth + 1) % 4)] = 1.0
    misleading = np.zeros_like(logits)
    misleading[np.arange(len(truth)), (truth + 1) % 4] = 1.0
    gain, temperature = fit_gain(logits, agreeing, truth)
    assert gain > 0.5 and temperature == fit_temperature(logits + gain * agreeing, truth)
    assert fit_gain(logits, misleading, truth)[0] == 0.0
    assert fit_gain(logits, np.zeros_like(logits), truth) == (0.0, fit_temperature(logits, truth))


def test_abstention_trades_answers_for_precision() -> None:
    features, truth = _synthetic(600, 6, 1.5, seed=5)
    _, held_out = fit_calibrated(features, truth)
    found = outcomes(held_out, truth, [(str(j),) for j in range(6)])
    loose, strict = scores(found, 6, 0.3), scores(found, 6, 0.8)
    assert strict.abstention > loose.abstention
    assert strict.precision_answered > loose.precision_answered


def test_leave_one_out_on_the_bundled_list(fake_library: Library) -> None:
    categorizer = fake_library.categorizer
    found = leave_one_out(categorizer)
    assert len(found) == 27
    figures = scores(found, len(categorizer.candidates), categorizer.abstain_below)
    assert 0 <= figures.top1 <= figures.top3 <= 1
    assert figures.top_level_top1 >= figures.top1  # a right leaf has a right top level
    assert sum(b.count for b in figures.reliability) == 27
    answered = [o for o in found if o.confidence >= categorizer.abstain_below]
    assert figures.abstention == 1 - len(answered) / 27


def test_an_empty_section_wins_on_its_heading(fake_library: Library) -> None:
    """The combiner is trained on entries whose section was emptied, so headings count."""
    result = fake_library.categorizer.categorize("membership inference attacks on models")
    top = result.suggestions[0]
    assert top.section[-1] == "Membership Inference Attacks" and top.evidence == ()
    assert top.confidence > result.suggestions[1].confidence


def test_ridge_probe_leaves_blocks_out_exactly() -> None:
    from secml_papers.index.categorize.probe import RidgeProbe

    rng = np.random.default_rng(6)
    vectors = rng.normal(size=(60, 8))
    member = np.eye(3)[rng.integers(0, 3, 60)]
    block = np.arange(12)
    probe = RidgeProbe(vectors, member, ridge=1e-6)
    refit = RidgeProbe(vectors[12:], member[12:], ridge=1e-6)
    assert np.allclose(probe.block_out(block), refit.predict(vectors[block]), atol=1e-5)
    single = RidgeProbe(vectors[1:], member[1:], ridge=1e-6).predict(vectors[:1])
    assert np.allclose(probe.leave_one_out()[:1], single, atol=1e-5)
    assert not np.allclose(probe.predict(vectors[block]), refit.predict(vectors[block]))
