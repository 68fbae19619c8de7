"""Online learning of the eq policy and its persistence across restarts."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.eq import learning
from eq_negotiator_ros.eq.emotions import EMOTIONS, HIDDEN_STATES
from eq_negotiator_ros.eq.learning import (
    LearnedModel,
    load_learned,
    load_learned_state,
    reestimate_response,
    reset_learned,
    save_learned,
    states_keep_their_meaning,
)
from eq_negotiator_ros.eq.policy import make_policy
from eq_negotiator_ros.eq.records import EmotionReading
from eq_negotiator_ros.eq.tracker import HiddenStateTracker

INITIAL = (0.4, 0.2, 0.2, 0.2)
J, S, A, N = (EMOTIONS.index(e) for e in ("joy", "sadness", "anger", "neutral"))


@pytest.fixture(scope="module")
def eq_config():
    return load_config().eq


def with_learning(eq_config, **changes):
    return dataclasses.replace(eq_config, learning=dataclasses.replace(eq_config.learning, **changes))


def reading(emotion: str) -> EmotionReading:
    probs = [0.0] * len(EMOTIONS)
    probs[EMOTIONS.index(emotion)] = 1.0
    return EmotionReading(tuple(probs), "test")


def negotiate(policy, replies, success):
    policy.start()
    for emotion in replies:
        policy.choose(reading(emotion), INITIAL)
    policy.finish(success)


def test_success_raises_the_payoff_of_the_cells_used_once(eq_config):
    policy = make_policy("eq", eq_config)
    # Neutral opening, every reply stays neutral (neutral column >= 2): cells (joy, neutral) x2
    # and (sadness, neutral) x1; each distinct cell moves once.
    negotiate(policy, ["joy", "joy", "sadness"], success=True)
    delta = policy.model.creditor_payoff - eq_config.model.creditor_payoff
    assert delta[J, N] == pytest.approx(0.05)
    assert delta[S, N] == pytest.approx(0.05)
    delta[J, N] = delta[S, N] = 0.0
    assert np.allclose(delta, 0.0)
    assert policy.learned.episodes == 1


def test_failure_lowers_the_payoff(eq_config):
    policy = make_policy("eq", eq_config)
    negotiate(policy, ["anger"], success=False)
    assert policy.model.creditor_payoff[A, N] == pytest.approx(eq_config.model.creditor_payoff[A, N] - 0.025)


def test_response_is_the_dirichlet_posterior_mean(eq_config):
    # 4 replies of anger to neutral, prior strength 200: (200 * .10 + 4) / (200 + 4)
    sequences = ((("neutral", "anger"),) * 4,)
    response = reestimate_response(sequences, eq_config.model.response, 200.0)
    assert response[N, A] == pytest.approx(24.0 / 204.0, rel=1e-3)
    assert response[N, J] == pytest.approx(20.0 / 204.0, rel=1e-3)
    assert np.allclose(response[J], eq_config.model.response[J], atol=1e-3)  # row without data
    assert np.allclose(response.sum(axis=1), 1.0)


def test_hmm_refit_learns_from_the_sequences_and_keeps_the_states(eq_config):
    policy = make_policy("eq", eq_config)
    for i in range(8):
        negotiate(policy, ["anger", "anger", "disgust", "anger", "anger", "neutral"], success=i % 2 == 0)
    model = policy.model
    assert np.allclose(model.transition.sum(axis=1), 1.0)
    assert np.allclose(model.emission.sum(axis=1), 1.0)
    assert not np.allclose(model.emission, eq_config.model.emission)
    conf = HIDDEN_STATES.index("confrontational")
    assert model.emission[conf, A] > eq_config.model.emission[conf, A]
    assert states_keep_their_meaning(model.emission, eq_config.model.emission)
    assert model.response[N, A] > eq_config.model.response[N, A]


def test_state_meaning_check_rejects_swapped_states(eq_config):
    swapped = eq_config.model.emission[[1, 0, 2, 3]]
    assert not states_keep_their_meaning(swapped, eq_config.model.emission)
    assert states_keep_their_meaning(eq_config.model.emission, eq_config.model.emission)


def test_history_is_limited_to_the_configured_episodes(eq_config):
    policy = make_policy("eq", with_learning(eq_config, history_episodes=3))
    for _ in range(5):
        negotiate(policy, ["joy", "anger"], success=True)
    assert policy.learned.episodes == 5
    assert len(policy.learned.sequences) == 3
    assert policy.learned.sequences[0] == (("neutral", "joy"), ("neutral", "anger"))


def test_learning_disabled_changes_nothing(eq_config):
    policy = make_policy("eq", with_learning(eq_config, enabled=False))
    negotiate(policy, ["anger"] * 5, success=False)
    assert np.array_equal(policy.model.creditor_payoff, eq_config.model.creditor_payoff)
    assert policy.learned.episodes == 0


def test_finish_without_turns_is_harmless(eq_config):
    policy = make_policy("eq", eq_config)
    policy.start()
    policy.finish(True)
    assert policy.learned.episodes == 0


def test_a_tracker_built_from_the_learned_model_differs(eq_config):
    policy = make_policy("eq", eq_config)
    for _ in range(5):
        negotiate(policy, ["anger", "anger", "anger", "joy"], success=False)
    learned_tracker = HiddenStateTracker(policy.model, eq_config.tracker)
    prior_tracker = HiddenStateTracker(eq_config.model, eq_config.tracker)
    assert not np.allclose(
        learned_tracker.update(reading("anger").probs, "neutral"),
        prior_tracker.update(reading("anger").probs, "neutral"),
    )


# ---------------------------------------------------------------------------------------------
# Persistence
# ---------------------------------------------------------------------------------------------


def test_learning_persists_across_a_restart(eq_config, tmp_path):
    path = tmp_path / "state" / "learned.json"
    policy = make_policy("eq", eq_config)
    for i in range(3):
        negotiate(policy, ["anger", "sadness", "anger", "fear", "anger"], success=i == 1)
    save_learned(path, policy.learned)

    learned, message = load_learned_state(path, eq_config.model)
    assert "loaded" in message and "3 negotiations" in message
    restarted = make_policy("eq", eq_config, learned=learned)
    for key in ("transition", "emission", "response", "creditor_payoff", "initial_belief"):
        assert np.allclose(getattr(restarted.model, key), getattr(policy.model, key)), key
    assert restarted.learned.episodes == 3
    assert restarted.learned.sequences == policy.learned.sequences
    assert np.allclose(load_learned(path, eq_config.model).response, policy.model.response)

    # Both continue identically.
    negotiate(policy, ["anger"] * 3, success=True)
    negotiate(restarted, ["anger"] * 3, success=True)
    assert np.allclose(restarted.model.emission, policy.model.emission)


def test_missing_file_gives_the_priors_and_says_so(eq_config, tmp_path):
    learned, message = load_learned_state(tmp_path / "nothing.json", eq_config.model)
    assert learned.episodes == 0
    assert np.array_equal(learned.model.response, eq_config.model.response)
    assert "no learned model" in message and "priors" in message
    learned, message = load_learned_state(None, eq_config.model)
    assert learned.episodes == 0 and "priors" in message


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "\x00\xff garbage",
        json.dumps({"format": "something else"}),
        json.dumps([1, 2, 3]),
    ],
)
def test_corrupt_file_gives_the_priors_and_a_clear_message(eq_config, tmp_path, content):
    path = tmp_path / "learned.json"
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    learned, message = load_learned_state(path, eq_config.model)
    assert np.array_equal(learned.model.emission, eq_config.model.emission)
    assert str(path) in message and "unreadable" in message and "priors" in message


def test_invalid_matrices_are_rejected(eq_config, tmp_path):
    path = tmp_path / "learned.json"
    data = LearnedModel.from_priors(eq_config.model).to_dict()
    data["model"]["transition"][0] = [0.9, 0.9, 0.0, 0.0]  # row sums to 1.8
    path.write_text(json.dumps(data))
    learned, message = load_learned_state(path, eq_config.model)
    assert "transition" in message
    assert np.array_equal(learned.model.transition, eq_config.model.transition)
    data = LearnedModel.from_priors(eq_config.model).to_dict()
    data["model"]["emission"] = [[0.5, 0.5]]
    path.write_text(json.dumps(data))
    assert "emission" in load_learned_state(path, eq_config.model)[1]


def test_reset_returns_to_the_priors(eq_config, tmp_path):
    path = tmp_path / "learned.json"
    policy = make_policy("eq", eq_config)
    negotiate(policy, ["anger"] * 4, success=False)
    save_learned(path, policy.learned)
    assert reset_learned(path) is True
    assert not path.exists()
    assert reset_learned(path) is False
    learned, _ = load_learned_state(path, eq_config.model)
    assert np.array_equal(learned.model.creditor_payoff, eq_config.model.creditor_payoff)


def test_save_is_atomic(eq_config, tmp_path, monkeypatch):
    path = tmp_path / "learned.json"
    save_learned(path, LearnedModel.from_priors(eq_config.model))
    before = path.read_text()
    policy = make_policy("eq", eq_config)
    negotiate(policy, ["anger"] * 3, success=False)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(learning.os, "replace", crash)
    with pytest.raises(OSError):
        save_learned(path, policy.learned)
    monkeypatch.undo()
    assert path.read_text() == before  # the previous file is intact
    assert os.listdir(tmp_path) == ["learned.json"]  # no temp file left behind

    save_learned(path, policy.learned)
    assert os.listdir(tmp_path) == ["learned.json"]
    assert json.loads(path.read_text())["episodes"] == 1


def test_save_accepts_a_bare_model(eq_config, tmp_path):
    path = save_learned(tmp_path / "m.json", eq_config.model)
    assert np.array_equal(load_learned(path, eq_config.model).response, eq_config.model.response)


# -- per-turn outcome learning (turn rewards -> learned payoff offsets) -------------------------


def scripted_negotiation(policy, creditor_days, debtor_days, agreed_at_end):
    """start(), then one choose() + observe_terms() per debtor offer; the last one agrees."""
    decision = policy.start()
    for i, days in enumerate(debtor_days):
        policy.choose(reading("neutral"), INITIAL)
        policy.observe_terms(days, creditor_days, agreed_at_end and i == len(debtor_days) - 1)
    policy.finish(agreed_at_end)
    return decision


def test_turn_reward_is_the_share_of_the_gap_the_debtor_closed():
    from eq_negotiator_ros.eq.policy import turn_reward

    assert turn_reward(None, 90, 30, False) is None  # the first number is an anchor, not a reply
    assert turn_reward(90, 75, 30, False) == pytest.approx(0.25)  # 15 of the 60-day gap
    assert turn_reward(90, None, 30, False) == 0.0  # a stall
    assert turn_reward(90, 100, 30, False) == pytest.approx(-10 / 60)  # a retraction
    assert turn_reward(None, None, 30, True) == 1.0  # agreement
    assert turn_reward(30, 29, 30, False) is None  # no gap left to close


def test_offsets_are_zero_without_data_and_favour_the_emotion_that_moves_debtors():
    from eq_negotiator_ros.eq.policy import learned_payoff_offsets

    assert np.allclose(learned_payoff_offsets(np.zeros((7, 3)), 30.0, 5.0), 0.0)
    stats = np.zeros((7, 3))
    stats[A] = (20, 20 * 0.3, 20 * 0.3**2)  # anger: 0.3 of the gap per turn
    stats[N] = (20, 20 * 0.1, 20 * 0.1**2)  # neutral: 0.1
    offsets = learned_payoff_offsets(stats, 30.0, 5.0)
    # overall mean 0.2; anger's posterior mean (5 * 0.2 + 6) / 25 = 0.28 -> 30 * 0.08 = +2.4
    assert offsets[A] == pytest.approx(2.4)
    assert offsets[N] == pytest.approx(-2.4)
    assert offsets[J] == pytest.approx(0.0)  # untried: the prior mean, no bonus
    # Thompson draws scatter around the means; an untried emotion's draw is the widest.
    draws = np.array([learned_payoff_offsets(stats, 30.0, 5.0, np.random.default_rng(s)) for s in range(400)])
    assert np.allclose(draws.mean(axis=0), offsets, atol=0.3)
    assert draws[:, J].std() > draws[:, A].std()


def test_policy_learns_which_emotion_moves_the_debtor(eq_config):
    config = with_learning(eq_config, explore=False)
    policy = make_policy("eq", config, seed=3)
    # First negotiation: the published table (neutral opening, neutral replies: WSLS stays).
    first = scripted_negotiation(policy, 30, [90, 88, 87, 86], agreed_at_end=False)
    assert first.creditor_emotion == "neutral"
    assert np.allclose(policy.decision_payoff, eq_config.model.creditor_payoff)
    stats = policy.learned.reward_array
    assert stats[N, 0] == 3  # three scored replies to neutral (the anchor is not scored)
    # Teach it that fear gets agreement: stats as if fear had closed the whole gap 10 times.
    better = list(policy.learned.reward_stats)
    better[EMOTIONS.index("fear")] = (10.0, 10.0, 10.0)
    policy._set_learned(dataclasses.replace(policy.learned, reward_stats=tuple(better)))
    decision = policy.start()
    assert decision.creditor_emotion == "fear"  # opens with the best learned column
    bonus = policy.decision_payoff - policy.model.creditor_payoff
    assert np.allclose(bonus, bonus[0])  # a column offset, the same for every debtor emotion
    assert bonus[0, EMOTIONS.index("fear")] > 2.0 > 0.0 > bonus[0, N]


def test_baselines_do_not_learn_from_turns(eq_config):
    for name in ("wsls", "hmm"):
        policy = make_policy(name, eq_config)
        scripted_negotiation(policy, 30, [90, 60, 31], agreed_at_end=True)
        policy.start()
        assert np.allclose(policy.decision_payoff, eq_config.model.creditor_payoff)
        assert policy.learned.reward_array.sum() == 0.0


def test_reward_statistics_persist_across_a_restart(eq_config, tmp_path):
    path = tmp_path / "learned.json"
    policy = make_policy("eq", eq_config, seed=1)
    scripted_negotiation(policy, 30, [90, 70, 50, 33], agreed_at_end=True)
    save_learned(path, policy.learned)
    restored, _ = load_learned_state(path, eq_config.model)
    assert restored.reward_stats == policy.learned.reward_stats
    assert restored.reward_array[N, 0] == 3  # 2 counters scored + the agreement
    # A file written before reward statistics existed still loads (no statistics yet).
    data = json.loads(path.read_text())
    del data["reward_stats"]
    path.write_text(json.dumps(data))
    older, message = load_learned_state(path, eq_config.model)
    assert older.reward_array.sum() == 0.0 and "loaded" in message
    data["reward_stats"] = {"joy": [1, 2]}
    path.write_text(json.dumps(data))
    broken, message = load_learned_state(path, eq_config.model)
    assert "unreadable" in message and broken.episodes == 0


def test_eq_policy_state_resumes_mid_negotiation_exactly(eq_config):
    policy = make_policy("eq", eq_config, seed=5)
    for _ in range(3):  # some learning so that start() draws offsets from the posterior
        scripted_negotiation(policy, 30, [90, 70, 60, 40], agreed_at_end=True)
    policy.start()
    policy.choose(reading("anger"), INITIAL)
    policy.observe_terms(80, 30, False)
    saved = json.loads(json.dumps(policy.to_dict()))
    twin = make_policy("eq", eq_config, learned=policy.learned, seed=99).load_dict(saved)
    assert np.allclose(twin.decision_payoff, policy.decision_payoff)
    for emotion, days in (("sadness", 70), ("anger", 65), ("joy", 60)):
        a = policy.choose(reading(emotion), INITIAL)
        b = twin.choose(reading(emotion), INITIAL)
        assert a.creditor_emotion == b.creditor_emotion
        policy.observe_terms(days, 30, False)
        twin.observe_terms(days, 30, False)
    policy.finish(False)
    twin.finish(False)
    assert policy.learned.reward_stats == twin.learned.reward_stats
    # The Thompson generator continues identically too.
    assert np.allclose(policy.start().expected_payoffs, twin.start().expected_payoffs)


# -- a learned-state file that cannot be read or written is survived -------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("sequences", 5),
        ("sequences", None),
        ("sequences", [5]),
        ("sequences", [None]),
        ("sequences", [[5]]),
        ("sequences", [[[1, 2]]]),
        ("sequences", [[["joy", None]]]),
        ("sequences", {"joy": "anger"}),
        ("sequences", "joy"),
        ("episodes", "3"),
        ("reward_stats", {e: None for e in EMOTIONS}),
        ("reward_stats", [1, 2, 3]),
        ("model", [1, 2, 3]),
        ("model", None),
    ],
)
def test_a_field_of_the_wrong_type_gives_the_priors_and_names_the_file(eq_config, tmp_path, field, value):
    path = tmp_path / "learned.json"
    policy = make_policy("eq", eq_config)
    negotiate(policy, ["anger", "sadness"], success=True)
    data = policy.learned.to_dict()
    data[field] = value
    path.write_text(json.dumps(data))
    load = learning.read_learned_state(path, eq_config.model)
    assert load.learned.episodes == 0
    assert np.array_equal(load.learned.model.creditor_payoff, eq_config.model.creditor_payoff)
    assert load.problem is not None and str(path) in load.problem and "unreadable" in load.problem
    assert "priors" in load.message
    # The node starts from what the loader gives: the priors must make a working policy.
    negotiate(make_policy("eq", eq_config, learned=load.learned), ["anger"], success=False)


def test_deeply_nested_json_gives_the_priors(eq_config, tmp_path):
    path = tmp_path / "learned.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    load = learning.read_learned_state(path, eq_config.model)
    assert load.problem is not None and load.learned.episodes == 0


def test_a_good_or_missing_file_is_no_problem(eq_config, tmp_path):
    path = tmp_path / "learned.json"
    assert learning.read_learned_state(path, eq_config.model).problem is None
    save_learned(path, LearnedModel.from_priors(eq_config.model))
    load = learning.read_learned_state(path, eq_config.model)
    assert load.problem is None and "loaded" in load.message


def test_a_path_under_a_regular_file_cannot_be_read_or_saved(eq_config, tmp_path):
    # chmod does not stop root from writing: a regular file where the folder should be does.
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    path = blocker / "learned.json"
    load = learning.read_learned_state(path, eq_config.model)
    assert load.problem is not None and str(path) in load.problem and load.learned.episodes == 0
    policy = make_policy("eq", eq_config)
    negotiate(policy, ["anger"], success=True)
    with pytest.raises(learning.LearnedStateError) as caught:
        save_learned(path, policy.learned)
    message = str(caught.value)
    assert str(path) in message and "eq.learning.state_path" in message
    assert isinstance(caught.value, OSError)
    assert blocker.read_text() == "x"


def test_a_failed_rename_names_the_file_and_leaves_nothing_behind(eq_config, tmp_path, monkeypatch):
    path = tmp_path / "learned.json"

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(learning.os, "replace", refuse)
    with pytest.raises(learning.LearnedStateError) as caught:
        save_learned(path, LearnedModel.from_priors(eq_config.model))
    assert str(path) in str(caught.value) and "Permission denied" in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_a_learned_file_that_cannot_be_removed_says_so(tmp_path):
    path = tmp_path / "learned.json"
    path.mkdir()  # a folder where the file should be: unlink fails
    with pytest.raises(learning.LearnedStateError) as caught:
        reset_learned(path)
    assert str(path) in str(caught.value) and "eq.learning.state_path" in str(caught.value)
