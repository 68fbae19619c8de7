"""eq/bandit.py and eq/utility.py: the contextual bandit's posterior and the creditor utility."""

import json

import numpy as np
import pytest

from eq_negotiator_ros.eq.bandit import ContextPrior, LinearThompsonBandit
from eq_negotiator_ros.eq.utility import creditor_utility

FLAT = ContextPrior(weight=1.0, offsets=(0.0, 0.0))


def test_utility_weighs_success_by_closeness_to_the_target():
    assert creditor_utility(False, 30, 30) == 0.0
    assert creditor_utility(True, 30, 30) == 1.0
    assert creditor_utility(True, 60, 30) == pytest.approx(0.5)
    assert creditor_utility(True, 20, 30) == 1.0  # earlier than asked counts as the target
    assert creditor_utility(True, None, 30) == 1.0
    assert creditor_utility(True, 0, 0) == 1.0


def test_posterior_mean_is_ridge_regression_toward_the_pooled_mean():
    bandit = LinearThompsonBandit(2, 1)
    for _ in range(9):
        bandit.update(0, [1.0], 1.0)
        bandit.observe_outcome(1.0)
        bandit.update(1, [1.0], 0.0)
        bandit.observe_outcome(0.0)
    means = bandit.mean_weights(FLAT)
    # prior mean 0.5 (pooled) worth 1 observation: (0.5 + 9) / 10 and (0.5 + 0) / 10
    assert means[0, 0] == pytest.approx(0.95)
    assert means[1, 0] == pytest.approx(0.05)


def test_draws_narrow_as_data_comes_in():
    rng = np.random.default_rng(0)
    bandit = LinearThompsonBandit(2, 1)
    bandit.observe_outcome(0.0)
    bandit.observe_outcome(1.0)
    wide = np.std([bandit.sample_weights(FLAT, rng)[0, 0] for _ in range(300)])
    for _ in range(200):
        bandit.update(0, [1.0], 0.5)
    narrow = np.std([bandit.sample_weights(FLAT, rng)[0, 0] for _ in range(300)])
    assert narrow < wide / 5
    assert np.allclose(bandit.sample_weights(FLAT, rng, scale=0.0), bandit.mean_weights(FLAT))


def test_state_round_trips_and_rejects_another_shape():
    bandit = LinearThompsonBandit(3, 2)
    bandit.update(1, [1.0, 0.5], 0.7, weight=0.5)
    bandit.observe_outcome(0.7)
    data = json.loads(json.dumps(bandit.to_dict()))
    again = LinearThompsonBandit.from_dict(data, 3, 2)
    prior = ContextPrior(1.0, (0.0, 0.0, 0.0))
    assert np.allclose(again.mean_weights(prior), bandit.mean_weights(prior))
    with pytest.raises(ValueError, match="3 actions x 2 features"):
        LinearThompsonBandit.from_dict(data, 3, 5)
    data["xy"] = "broken"
    with pytest.raises(ValueError, match="xy"):
        LinearThompsonBandit.from_dict(data, 3, 2)


def test_bad_observations_are_refused_or_skipped():
    bandit = LinearThompsonBandit(2, 2)
    with pytest.raises(ValueError):
        bandit.update(0, [1.0], 1.0)
    bandit.update(0, [1.0, 0.0], float("nan"))
    assert bandit.counts.sum() == 0


def test_utility_baseline_is_ridge_regression_and_round_trips():
    from eq_negotiator_ros.eq.bandit import UtilityBaseline

    baseline = UtilityBaseline(2, ridge=1e-9)
    for z, y in (([1.0, 0.0], 1.0), ([1.0, 1.0], 0.5), ([1.0, 2.0], 0.0)):
        baseline.update(z, y)
    assert baseline.predict([1.0, 1.5]) == pytest.approx(0.25)
    again = UtilityBaseline.from_dict(json.loads(json.dumps(baseline.to_dict())), 2)
    assert again.predict([1.0, 0.5]) == pytest.approx(baseline.predict([1.0, 0.5]))
    with pytest.raises(ValueError, match="2 covariates"):
        UtilityBaseline.from_dict({"format": "x"}, 2)
    baseline.update([1.0, float("nan")], 1.0)  # skipped
    assert baseline.predict([1.0, 1.5]) == pytest.approx(0.25)


def test_baseline_covariates_say_how_far_apart_the_sides_start():
    from eq_negotiator_ros.eq.policy import baseline_covariates

    z = baseline_covariates(120, 30)
    assert z[0] == 1.0 and z[1] == pytest.approx(np.log(4.0)) and z[2] == pytest.approx(np.log(4.0) ** 2)
    assert z[3] == pytest.approx(np.log(30.0))
    assert baseline_covariates(None, None).tolist() == [1.0, 0.0, 0.0, 0.0]
