"""HiddenStateTracker: a proper forward filter whose belief follows the debtor's emotions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from eq_negotiator_ros.config import TrackerConfig, load_config
from eq_negotiator_ros.eq.emotions import EMOTIONS, HIDDEN_STATES
from eq_negotiator_ros.eq.tracker import CreditorConditionedDynamics, HiddenStateTracker

CONFRONTATIONAL = HIDDEN_STATES.index("confrontational")
DISTRESSED = HIDDEN_STATES.index("distressed")
COOPERATIVE = HIDDEN_STATES.index("cooperative")


@pytest.fixture(scope="module")
def eq_config():
    return load_config().eq


@pytest.fixture
def tracker(eq_config):
    return HiddenStateTracker(eq_config.model, eq_config.tracker)


def onehot(emotion: str) -> list[float]:
    probs = [0.0] * len(EMOTIONS)
    probs[EMOTIONS.index(emotion)] = 1.0
    return probs


def test_initial_belief_comes_from_the_config(tracker):
    assert np.allclose(tracker.belief, [0.4, 0.2, 0.2, 0.2])


def test_one_step_by_hand_with_plain_transition(eq_config):
    # alpha = 0: T_c = T. Predict [.4 .2 .2 .2] @ T:
    #   coop .4*.50+.2*.20+.2*.25+.2*.20 = .33   conf .4*.15+.2*.40+.2*.15+.2*.20 = .21
    #   dist .4*.15+.2*.20+.2*.40+.2*.15 = .21   strat .4*.20+.2*.20+.2*.20+.2*.45 = .25
    # Correct with a certain "anger" reading: emission[:, anger] = .02 .15 .05 .05
    #   .33*.02=.0066  .21*.15=.0315  .21*.05=.0105  .25*.05=.0125, sum .0611
    tracker = HiddenStateTracker(eq_config.model, TrackerConfig(transition_tilt_alpha=0.0))
    belief = tracker.update(onehot("anger"), "neutral")
    assert np.allclose(belief, np.array([0.0066, 0.0315, 0.0105, 0.0125]) / 0.0611)


def test_a_run_of_anger_moves_the_belief_toward_confrontational(tracker):
    start = tracker.belief[CONFRONTATIONAL]
    for _ in range(4):
        belief = tracker.update(onehot("anger"), "neutral")
    assert belief[CONFRONTATIONAL] > start + 0.3
    assert tracker.dominant_state == "confrontational"


def test_a_run_of_sadness_moves_the_belief_toward_distressed(tracker):
    start = tracker.belief[DISTRESSED]
    for _ in range(4):
        belief = tracker.update(onehot("sadness"), "neutral")
    assert belief[DISTRESSED] > start + 0.3
    assert tracker.dominant_state == "distressed"


def test_debtor_emotions_change_the_belief_for_the_same_creditor_emotions(eq_config):
    # The released code's update cancels the debtor's emotion; here it is the observation.
    creditor = ["neutral", "joy", "joy", "sadness"]
    angry = HiddenStateTracker(eq_config.model, eq_config.tracker)
    happy = HiddenStateTracker(eq_config.model, eq_config.tracker)
    for c in creditor:
        angry.update(onehot("anger"), c)
        happy.update(onehot("joy"), c)
    assert not np.allclose(angry.belief, happy.belief, atol=0.05)
    assert angry.belief[CONFRONTATIONAL] > happy.belief[CONFRONTATIONAL]
    assert happy.belief[COOPERATIVE] > angry.belief[COOPERATIVE]


def test_the_creditor_emotion_shapes_the_prediction(eq_config):
    joyful = HiddenStateTracker(eq_config.model, eq_config.tracker)
    angry = HiddenStateTracker(eq_config.model, eq_config.tracker)
    joyful.update(onehot("neutral"), "joy")
    angry.update(onehot("neutral"), "anger")
    # Debtors answer joy with joy (response table), which the cooperative state explains best.
    assert joyful.belief[COOPERATIVE] > angry.belief[COOPERATIVE]


def test_alpha_zero_gives_the_plain_transition_for_every_creditor_emotion(eq_config):
    dynamics = CreditorConditionedDynamics(eq_config.model, TrackerConfig(transition_tilt_alpha=0.0))
    for c in range(len(EMOTIONS)):
        assert np.allclose(dynamics.transitions[c], eq_config.model.transition)


def test_tilted_transitions_are_stochastic(eq_config):
    dynamics = CreditorConditionedDynamics(eq_config.model, TrackerConfig(transition_tilt_alpha=2.0))
    assert np.allclose(dynamics.transitions.sum(axis=2), 1.0)
    assert np.all(dynamics.transitions > 0)


def test_uniform_evidence_leaves_the_prediction(eq_config):
    tracker = HiddenStateTracker(eq_config.model, eq_config.tracker)
    expected = (
        tracker.belief
        @ CreditorConditionedDynamics(eq_config.model, eq_config.tracker).transitions[
            EMOTIONS.index("neutral")
        ]
    )
    # Uniform detector output: the likelihood is the emission row mean, 1/7 for every state.
    belief = tracker.update([1 / 7] * 7, "neutral")
    assert np.allclose(belief, expected)


@pytest.mark.parametrize(
    "probs", [[0.0] * 7, [float("nan")] * 7, [-1.0] * 7, [float("inf"), 0, 0, 0, 0, 0, 0]]
)
def test_unusable_evidence_falls_back_to_the_prediction(eq_config, probs):
    tracker = HiddenStateTracker(eq_config.model, eq_config.tracker)
    plain = HiddenStateTracker(eq_config.model, eq_config.tracker)
    belief = tracker.update(probs, "joy")
    reference = plain.update([1 / 7] * 7, "joy")
    assert np.all(np.isfinite(belief))
    assert np.allclose(belief, reference)


def test_no_underflow_over_a_long_run(tracker):
    for i in range(2000):
        belief = tracker.update(onehot("anger" if i % 2 else "disgust"), "anger")
    assert np.all(np.isfinite(belief)) and belief.sum() == pytest.approx(1.0)
    assert belief.min() > 0


def test_evidence_impossible_under_every_state_falls_back(eq_config):
    emission = eq_config.model.emission.copy()
    emission[:, EMOTIONS.index("anger")] = 0.0
    emission /= emission.sum(axis=1, keepdims=True)
    model = dataclasses.replace(eq_config.model.copy(), emission=emission)
    tracker = HiddenStateTracker(model, eq_config.tracker)
    belief = tracker.update(onehot("anger"), "neutral")
    assert np.all(np.isfinite(belief)) and belief.sum() == pytest.approx(1.0)


def test_wrong_length_names_the_problem(tracker):
    with pytest.raises(ValueError, match="expected 7 probabilities"):
        tracker.update([0.5, 0.5], "joy")


def test_unknown_creditor_emotion_names_the_valid_ones(tracker):
    with pytest.raises(ValueError, match="joy, sadness"):
        tracker.update(onehot("joy"), "smug")


def test_predict_next_emotion_is_a_distribution_that_depends_on_the_creditor(tracker):
    for _ in range(3):
        tracker.update(onehot("anger"), "neutral")
    joy = tracker.predict_next_emotion("joy")
    anger = tracker.predict_next_emotion("anger")
    assert joy.shape == (7,) and joy.sum() == pytest.approx(1.0)
    assert anger.sum() == pytest.approx(1.0)
    assert joy[EMOTIONS.index("joy")] > anger[EMOTIONS.index("joy")]
    assert np.allclose(tracker.predict_next_emotions()[EMOTIONS.index("joy")], joy)


def test_predict_next_emotion_response_weight_one_is_the_response_row(eq_config):
    tracker = HiddenStateTracker(eq_config.model, TrackerConfig(response_weight=1.0))
    assert np.allclose(tracker.predict_next_emotion("fear"), eq_config.model.response[EMOTIONS.index("fear")])


def test_reset_restores_the_initial_belief(tracker):
    tracker.update(onehot("anger"), "anger")
    tracker.reset()
    assert np.allclose(tracker.belief, [0.4, 0.2, 0.2, 0.2]) and tracker.steps == 0


def test_to_dict_from_dict_restores_exactly(tracker):
    import json

    for e in ("anger", "sadness", "joy"):
        tracker.update(onehot(e), "neutral")
    data = json.loads(json.dumps(tracker.to_dict()))
    restored = HiddenStateTracker.from_dict(data)
    assert np.array_equal(restored.belief, tracker.belief)
    assert restored.steps == 3 and restored.settings == tracker.settings
    assert np.array_equal(restored.update(onehot("fear"), "joy"), tracker.update(onehot("fear"), "joy"))


def test_load_dict_restores_in_place(eq_config, tracker):
    tracker.update(onehot("anger"), "neutral")
    other = HiddenStateTracker(eq_config.model, eq_config.tracker)
    assert other.load_dict(tracker.to_dict()) is other
    assert np.array_equal(other.belief, tracker.belief)


def test_belief_is_a_copy(tracker):
    tracker.belief[0] = 99.0
    assert tracker.belief[0] == pytest.approx(0.4)
