"""Calibration of the detector's probabilities (eq/calibration.py): temperature fitting, expected
calibration error and the reliability table, on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from eq_negotiator_ros.eq import calibration


def _sample(rng: np.random.Generator, n: int, true_temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose softmax at `true_temperature` is the real label distribution."""
    scores = rng.normal(0.0, 3.0, size=(n, 7))
    probs = np.exp(calibration.log_softmax(scores / true_temperature))
    gold = np.asarray([rng.choice(7, p=p) for p in probs])
    return scores, gold


def test_fit_temperature_recovers_the_true_temperature():
    rng = np.random.default_rng(0)
    scores, gold = _sample(rng, 4000, true_temperature=2.0)
    assert calibration.fit_temperature(scores, gold) == pytest.approx(2.0, abs=0.2)


def test_calibrated_probabilities_have_small_ece_and_overconfident_ones_large():
    rng = np.random.default_rng(1)
    scores, gold = _sample(rng, 4000, true_temperature=2.0)
    calibrated = np.exp(calibration.log_softmax(scores / 2.0))
    overconfident = np.exp(calibration.log_softmax(scores / 0.5))
    assert calibration.expected_calibration_error(calibrated, gold) < 0.03
    assert calibration.expected_calibration_error(overconfident, gold) > 0.1


def test_reliability_table_counts_every_prediction_once():
    rng = np.random.default_rng(2)
    scores, gold = _sample(rng, 500, true_temperature=1.0)
    probs = np.exp(calibration.log_softmax(scores))
    table = calibration.reliability_table(probs, gold)
    assert sum(b.count for b in table) == 500
    for b in table:
        assert b.low <= b.mean_confidence <= b.high and 0.0 <= b.accuracy <= 1.0


def test_perfectly_confident_and_right_is_zero_error():
    probs = np.eye(7)[[0, 3, 6]]
    assert calibration.expected_calibration_error(probs, np.asarray([0, 3, 6])) == 0.0
    assert calibration.expected_calibration_error(probs, np.asarray([1, 3, 6])) == pytest.approx(1 / 3)


def test_sampling_ece_brackets_the_ece_of_calibrated_draws():
    rng = np.random.default_rng(3)
    confidences = rng.uniform(0.3, 1.0, size=200)
    low, mid, high = calibration.sampling_ece(confidences, draws=300)
    assert 0.0 < low < mid < high < 0.2
    correct = rng.random(200) < confidences  # one more calibrated draw, with the 7-label layout
    probs = np.zeros((200, 7))
    probs[:, 0] = confidences
    probs[:, 1:] = ((1 - confidences) / 6)[:, None]
    measured = calibration.expected_calibration_error(probs, np.where(correct, 0, 1))
    assert low * 0.5 < measured < high * 1.5
