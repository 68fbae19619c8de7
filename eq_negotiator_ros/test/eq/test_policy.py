"""Creditor policies: the paper's rules, computed by hand from the published tables."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from eq_negotiator_ros.config import TrackerConfig, load_config
from eq_negotiator_ros.eq.emotions import EMOTIONS
from eq_negotiator_ros.eq.policy import (
    POLICY_NAMES,
    EQPolicy,
    ReleasedPolicy,
    make_policy,
    ranked_emotions,
    released_belief_update,
)
from eq_negotiator_ros.eq.records import EmotionReading, PolicyDecision
from eq_negotiator_ros.eq.tracker import HiddenStateTracker

INITIAL = (0.4, 0.2, 0.2, 0.2)


@pytest.fixture(scope="module")
def eq_config():
    return load_config().eq


def with_opening(eq_config, emotion):
    return dataclasses.replace(
        eq_config, policy=dataclasses.replace(eq_config.policy, opening_emotion=emotion)
    )


def with_tracker(eq_config, alpha, weight):
    return dataclasses.replace(
        eq_config, tracker=TrackerConfig(transition_tilt_alpha=alpha, response_weight=weight)
    )


def reading(emotion: str) -> EmotionReading:
    probs = [0.0] * len(EMOTIONS)
    probs[EMOTIONS.index(emotion)] = 1.0
    return EmotionReading(tuple(probs), "test")


# ---------------------------------------------------------------------------------------------
# make_policy
# ---------------------------------------------------------------------------------------------


def test_policy_names():
    assert POLICY_NAMES == (
        "eq",
        "eq-context",
        "vanilla",
        "fixed-joy",
        "fixed-sadness",
        "fixed-anger",
        "fixed-fear",
        "fixed-surprise",
        "fixed-disgust",
        "fixed-neutral",
        "random",
        "wsls",
        "hmm",
        "released",
        "released-float",
    )


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_implements_the_protocol(eq_config, name):
    policy = make_policy(name, eq_config, seed=3)
    assert policy.name == name
    assert all(callable(getattr(policy, m, None)) for m in ("start", "choose", "finish"))
    opening = policy.start()
    assert isinstance(opening, PolicyDecision) and opening.creditor_emotion in EMOTIONS
    for emotion in ("anger", "sadness", "anger", "fear", "disgust", "joy"):
        decision = policy.choose(reading(emotion), INITIAL)
        assert decision.creditor_emotion in EMOTIONS
        assert decision.explanation
        json.dumps(decision.to_dict())
    policy.finish(True)
    policy.start()


def test_unknown_policy_lists_the_valid_names(eq_config):
    with pytest.raises(ValueError, match="eq, eq-context, vanilla, fixed-joy.*released"):
        make_policy("greedy", eq_config)


def test_fixed_and_vanilla(eq_config):
    assert make_policy("vanilla", eq_config).start().creditor_emotion == "neutral"
    policy = make_policy("fixed-fear", eq_config)
    policy.start()
    assert {policy.choose(reading(e), INITIAL).creditor_emotion for e in EMOTIONS} == {"fear"}


def test_random_is_reproducible_from_the_seed(eq_config):
    def run(seed):
        policy = make_policy("random", eq_config, seed=seed)
        return [policy.start().creditor_emotion] + [
            policy.choose(reading("anger"), INITIAL).creditor_emotion for _ in range(20)
        ]

    assert run(5) == run(5)
    assert len(set(run(5))) > 2


# ---------------------------------------------------------------------------------------------
# WSLS, by hand from the published creditor payoff table pi(debtor, creditor):
#            joy sad ang fear sur dis neu   (creditor emotion)
#   joy       4   3   2   1    3   2   3
#   sadness   2   3   2   1    2   1   3
#   anger     1   1   1   0    2   1   2
#   fear      2   2   1   2    2   1   3
#   surprise  3   2   1   1    4   2   3
#   disgust   2   1   0   0    1   2   2
#   neutral   3   3   1   2    3   2   3
# Second best = second entry of the row sorted by payoff descending, ties in EMOTIONS order.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "debtor, expected, branch",
    [
        # Opening neutral: the neutral column is 3 3 2 3 3 2 3, never below 2: always stay.
        ("joy", "neutral", "wsls_stay"),
        ("sadness", "neutral", "wsls_stay"),
        ("anger", "neutral", "wsls_stay"),  # pi = 2, not below the threshold 2.0
        ("fear", "neutral", "wsls_stay"),
        ("surprise", "neutral", "wsls_stay"),
        ("disgust", "neutral", "wsls_stay"),  # pi = 2
        ("neutral", "neutral", "wsls_stay"),
    ],
)
def test_wsls_after_a_neutral_opening(eq_config, debtor, expected, branch):
    policy = make_policy("eq", eq_config)
    assert policy.start().creditor_emotion == "neutral"
    decision = policy.choose(reading(debtor), INITIAL)
    assert (decision.creditor_emotion, decision.branch) == (expected, branch)


@pytest.mark.parametrize(
    "debtor, expected, branch",
    [
        # Opening fear: the fear column is 1 1 0 2 1 0 2.
        ("joy", "sadness", "wsls_shift"),  # pi 1 < 2; joy row: joy 4, then sadness 3 (sur, neu 3 later)
        ("sadness", "neutral", "wsls_shift"),  # pi 1; sadness row: sadness 3, neutral 3
        ("anger", "neutral", "wsls_shift"),  # pi 0; anger row: surprise 2, neutral 2
        ("fear", "fear", "wsls_stay"),  # pi 2
        ("surprise", "joy", "wsls_shift"),  # pi 1; surprise row: surprise 4, joy 3 (neutral 3 later)
        ("disgust", "disgust", "wsls_shift"),  # pi 0; disgust row: joy 2, disgust 2, neutral 2
        ("neutral", "fear", "wsls_stay"),  # pi 2
    ],
)
def test_wsls_after_a_fear_opening(eq_config, debtor, expected, branch):
    policy = make_policy("eq", with_opening(eq_config, "fear"))
    policy.start()
    decision = policy.choose(reading(debtor), INITIAL)
    assert (decision.creditor_emotion, decision.branch) == (expected, branch)
    assert (
        decision.last_payoff
        == eq_config.model.creditor_payoff[EMOTIONS.index(debtor), EMOTIONS.index("fear")]
    )


@pytest.mark.parametrize(
    "debtor, expected, branch",
    [
        # Opening anger: the anger column is 2 2 1 1 1 0 1.
        ("joy", "anger", "wsls_stay"),  # pi 2
        ("sadness", "anger", "wsls_stay"),  # pi 2
        ("anger", "neutral", "wsls_shift"),  # pi 1; anger row: surprise 2, neutral 2
        ("fear", "joy", "wsls_shift"),  # pi 1; fear row: neutral 3, then joy 2 (first of the 2s)
        ("surprise", "joy", "wsls_shift"),  # pi 1; surprise row: surprise 4, joy 3
        ("disgust", "disgust", "wsls_shift"),  # pi 0; disgust row: joy 2, disgust 2
        ("neutral", "sadness", "wsls_shift"),  # pi 1; neutral row: joy 3, sadness 3
    ],
)
def test_wsls_after_an_anger_opening(eq_config, debtor, expected, branch):
    policy = make_policy("eq", with_opening(eq_config, "anger"))
    policy.start()
    decision = policy.choose(reading(debtor), INITIAL)
    assert (decision.creditor_emotion, decision.branch) == (expected, branch)


def test_wsls_stays_with_the_new_emotion_after_a_shift(eq_config):
    policy = make_policy("wsls", with_opening(eq_config, "fear"))
    policy.start()
    assert policy.choose(reading("joy"), INITIAL).creditor_emotion == "sadness"  # shift (pi 1)
    # Now the last emotion is sadness: pi(joy, sadness) = 3 >= 2, stay.
    decision = policy.choose(reading("joy"), INITIAL)
    assert (decision.creditor_emotion, decision.branch, decision.last_payoff) == ("sadness", "wsls_stay", 3.0)


def test_wsls_uses_the_expected_payoff_of_a_soft_reading(eq_config):
    # 0.5 anger + 0.5 joy after a fear opening: pi = .5*0 + .5*1 = 0.5 < 2, shift. Expected row:
    #   joy .5*1+.5*4=2.5  sad .5*1+.5*3=2  ang .5*1+.5*2=1.5  fear .5*0+.5*1=.5
    #   sur .5*2+.5*3=2.5  dis .5*1+.5*2=1.5  neu .5*2+.5*3=2.5  -> joy, surprise, neutral: second surprise.
    policy = make_policy("eq", with_opening(eq_config, "fear"))
    policy.start()
    probs = [0.0] * 7
    probs[EMOTIONS.index("anger")] = probs[EMOTIONS.index("joy")] = 0.5
    decision = policy.choose(EmotionReading(tuple(probs), "test"), INITIAL)
    assert decision.last_payoff == pytest.approx(0.5)
    assert decision.creditor_emotion == "surprise"


def test_ranking_breaks_ties_in_emotion_order():
    assert ranked_emotions(np.array([1.0, 3.0, 3.0, 0.0, 3.0, 2.0, 1.0]))[:4] == [1, 2, 4, 5]


def test_unreadable_reading_is_treated_as_low_confidence_neutral(eq_config):
    policy = make_policy("eq", eq_config)
    policy.start()
    decision = policy.choose(EmotionReading((float("nan"),) * 7, "broken"), [float("nan")] * 4)
    assert decision.creditor_emotion in EMOTIONS
    assert np.all(np.isfinite(decision.expected_payoffs))


# ---------------------------------------------------------------------------------------------
# k-of-n switch to the HMM branch
# ---------------------------------------------------------------------------------------------


def branches(policy, emotions):
    policy.start()
    return [policy.choose(reading(e), INITIAL).branch for e in emotions]


def test_three_negative_of_five_stays_in_wsls(eq_config):
    result = branches(make_policy("eq", eq_config), ["anger", "joy", "sadness", "joy", "fear"])
    assert "hmm" not in result


def test_four_negative_of_five_switches_to_hmm(eq_config):
    result = branches(make_policy("eq", eq_config), ["anger", "joy", "sadness", "fear", "disgust"])
    assert result[:4] == ["wsls_stay"] * 4  # three negatives at the fourth turn
    assert result[4] == "hmm"


def test_the_window_slides(eq_config):
    result = branches(make_policy("eq", eq_config), ["anger"] * 4 + ["joy", "joy"])
    assert result[3] == "hmm" and result[4] == "hmm"  # 4 of the last 5, then 4 of the last 5
    assert result[5] != "hmm"  # last 5: anger anger anger joy joy


def test_wsls_baseline_never_uses_the_hmm(eq_config):
    assert "hmm" not in branches(make_policy("wsls", eq_config), ["anger"] * 8)


def test_hmm_baseline_always_uses_the_hmm(eq_config):
    assert set(branches(make_policy("hmm", eq_config), ["joy"] * 3)) == {"hmm"}


# ---------------------------------------------------------------------------------------------
# HMM branch, by hand. With transition_tilt_alpha = 0 and response_weight = 0 the predicted next
# debtor emotion is belief @ T @ emission for every creditor emotion, and the choice is the
# creditor emotion c maximising sum_e q(e) * pi(e, c).
# ---------------------------------------------------------------------------------------------


def test_hmm_branch_against_a_confrontational_debtor_picks_neutral(eq_config):
    # belief = confrontational: next state T[conf] = .2 .4 .2 .2, q = that @ emission:
    #   joy  .2*.35+.4*.10+.2*.10+.2*.20 = .17     sad  .2*.05+.4*.10+.2*.30+.2*.10 = .13
    #   ang  .2*.02+.4*.15+.2*.05+.2*.05 = .084    fear .2*.03+.4*.10+.2*.20+.2*.05 = .096
    #   sur  .2*.25+.4*.15+.2*.05+.2*.20 = .16     dis  .2*.05+.4*.10+.2*.10+.2*.10 = .09
    #   neu  .2*.25+.4*.30+.2*.20+.2*.30 = .27
    # joy column 4 2 1 2 3 2 3: .68+.26+.084+.192+.48+.18+.81 = 2.686
    # neutral column 3 3 2 3 3 2 3: .51+.39+.168+.288+.48+.18+.81 = 2.826   <- best
    # surprise column 3 2 2 2 4 1 3: .51+.26+.168+.192+.64+.09+.81 = 2.670
    policy = make_policy("hmm", with_tracker(eq_config, 0.0, 0.0))
    policy.start()
    decision = policy.choose(reading("anger"), [0.0, 1.0, 0.0, 0.0])
    assert decision.creditor_emotion == "neutral"
    assert decision.expected_payoffs[EMOTIONS.index("neutral")] == pytest.approx(2.826)
    assert decision.expected_payoffs[EMOTIONS.index("joy")] == pytest.approx(2.686)
    assert decision.expected_payoffs[EMOTIONS.index("surprise")] == pytest.approx(2.670)


def test_hmm_branch_against_a_cooperative_debtor_picks_joy(eq_config):
    # belief = cooperative: next state .5 .15 .15 .2, q:
    #   joy .175+.015+.015+.04 = .245   sad .025+.015+.045+.02 = .105   ang .01+.0225+.0075+.01 = .05
    #   fear .015+.015+.03+.01 = .07    sur .125+.0225+.0075+.04 = .195  dis .025+.015+.015+.02 = .075
    #   neu .125+.045+.03+.06 = .26
    # joy: .98+.21+.05+.14+.585+.15+.78 = 2.895   <- best
    # neutral: .735+.315+.1+.21+.585+.15+.78 = 2.875
    policy = make_policy("hmm", with_tracker(eq_config, 0.0, 0.0))
    policy.start()
    decision = policy.choose(reading("joy"), [1.0, 0.0, 0.0, 0.0])
    assert decision.creditor_emotion == "joy"
    assert decision.expected_payoffs[EMOTIONS.index("joy")] == pytest.approx(2.895)
    assert decision.expected_payoffs[EMOTIONS.index("neutral")] == pytest.approx(2.875)


def test_hmm_branch_on_the_response_table_alone_mirrors_joy(eq_config):
    # response_weight = 1: q = response[c]. joy: .6*4+.05*2+.05*1+.05*2+.1*3+.05*2+.1*3 = 3.35;
    # surprise: .1*3+.05*2+.05*2+.05*2+.6*4+.05*1+.1*3 = 3.35 (tie: joy comes first);
    # neutral: .1*(3+3+2+3+3+2)+.4*3 = 2.8. This is why the default weight is 0 (see negotiator.yaml).
    policy = make_policy("hmm", with_tracker(eq_config, 0.0, 1.0))
    policy.start()
    for belief in ([0, 1, 0, 0], [0, 0, 1, 0], INITIAL):
        decision = policy.choose(reading("anger"), belief)
        assert decision.creditor_emotion == "joy"
        assert decision.expected_payoffs[EMOTIONS.index("surprise")] == pytest.approx(3.35)
        assert decision.expected_payoffs[EMOTIONS.index("neutral")] == pytest.approx(2.8)


def test_default_eq_after_persistent_anger_picks_neutral_not_joy(eq_config):
    # The full loop with the default (tilted) dynamics: four angry replies to a neutral creditor
    # move the belief to about .06 .66 .12 .17; the HMM branch then prefers neutral (2.833) to
    # joy (2.812). The released code answers joy here.
    policy = make_policy("eq", eq_config)
    tracker = HiddenStateTracker(policy.model, eq_config.tracker)
    creditor = policy.start().creditor_emotion
    for _ in range(4):
        tracker.update(reading("anger").probs, creditor)
        decision = policy.choose(reading("anger"), tracker.belief)
        creditor = decision.creditor_emotion
    assert decision.branch == "hmm"
    assert decision.belief[1] == pytest.approx(0.656, abs=0.01)
    assert decision.creditor_emotion == "neutral"
    assert decision.expected_payoffs[EMOTIONS.index("neutral")] == pytest.approx(2.833, abs=0.001)
    assert decision.expected_payoffs[EMOTIONS.index("joy")] == pytest.approx(2.812, abs=0.001)


def test_default_hmm_choice_depends_on_the_belief(eq_config):
    policy = make_policy("hmm", eq_config)
    policy.start()
    picks = {
        tuple(b): policy.choose(reading("anger"), b).creditor_emotion
        for b in ([1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])
    }
    assert picks[(1, 0, 0, 0)] == "joy"
    assert picks[(0, 1, 0, 0)] == "neutral"
    assert picks[(0, 0, 1, 0)] == "neutral"
    assert len(set(picks.values())) > 1


def test_decision_explains_itself(eq_config):
    policy = make_policy("eq", with_opening(eq_config, "fear"))
    policy.start()
    decision = policy.choose(reading("anger"), INITIAL)
    assert "shift" in decision.explanation and "anger" in decision.explanation
    assert decision.belief == pytest.approx(INITIAL)
    assert len(decision.expected_payoffs) == 7


# ---------------------------------------------------------------------------------------------
# The released code's behaviour, replicated
# ---------------------------------------------------------------------------------------------


def test_released_belief_ignores_the_debtor_emotion(eq_config):
    model = eq_config.model
    start = np.array(INITIAL)
    results = [
        released_belief_update(start, EMOTIONS.index(d), EMOTIONS.index("joy"), model, model.response)
        for d in EMOTIONS
    ]
    for other in results[1:]:
        assert np.allclose(other, results[0])


@pytest.mark.parametrize("name", ["released", "released-float"])
def test_released_policy_belief_is_the_same_whatever_the_debtor_says(eq_config, name):
    angry, happy = make_policy(name, eq_config), make_policy(name, eq_config)
    angry.start(), happy.start()
    a = angry.choose(reading("anger"), INITIAL)
    h = happy.choose(reading("joy"), INITIAL)
    # Both replied to the same opening: the same creditor emotion, so the same belief.
    assert a.belief == pytest.approx(h.belief)


@pytest.mark.parametrize(
    "history",
    [
        ["anger"] * 5,
        ["sadness"] * 6,
        ["fear", "disgust", "anger", "sadness"],
        ["joy", "anger", "anger", "disgust", "fear", "sadness", "anger"],
        ["disgust"] * 4,
    ],
)
@pytest.mark.parametrize("name", ["released", "released-float"])
def test_released_hmm_branch_picks_joy(eq_config, history, name):
    policy = make_policy(name, eq_config)
    policy.start()
    decisions = [policy.choose(reading(e), INITIAL) for e in history]
    hmm = [d for d in decisions if d.branch == "released_hmm"]
    assert hmm and {d.creditor_emotion for d in hmm} == {"joy"}


@pytest.mark.parametrize("name", ["released", "released-float"])
def test_released_wsls_plays_the_best_response(eq_config, name):
    policy = make_policy(name, eq_config)
    policy.start()
    # anger row 1 1 1 0 2 1 2: first maximum is surprise; disgust row 2 1 0 0 1 2 2: joy.
    assert policy.choose(reading("anger"), INITIAL).creditor_emotion == "surprise"
    assert policy.choose(reading("joy"), INITIAL).creditor_emotion == "joy"
    assert policy.choose(reading("disgust"), INITIAL).creditor_emotion == "joy"


def test_released_float_learning_adds_003_and_renormalises(eq_config):
    policy = make_policy("released-float", eq_config)
    assert isinstance(policy, ReleasedPolicy)
    policy.start()
    policy.choose(reading("joy"), INITIAL)  # -> joy (joy row maximum)
    policy.choose(reading("surprise"), INITIAL)  # -> surprise (surprise row maximum)
    before = policy.released_model
    policy.finish(True)
    after = policy.released_model
    # t = 1: creditor surprise, debtor surprise: response[sur, sur] = (.6 + .03) / 1.03
    s = EMOTIONS.index("surprise")
    assert after.response[s, s] == pytest.approx(0.63 / 1.03)
    assert after.response[s].sum() == pytest.approx(1.0)
    # payoff[d_t, c_t] += 0.05 * 1.0 over zip(debtor, creditor): (joy, joy), (surprise, surprise)
    j = EMOTIONS.index("joy")
    assert after.creditor_payoff[j, j] == pytest.approx(before.creditor_payoff[j, j] + 0.05)
    assert after.creditor_payoff[s, s] == pytest.approx(before.creditor_payoff[s, s] + 0.05)


def test_baselines_do_not_learn(eq_config):
    for name in ("wsls", "hmm"):
        policy = make_policy(name, eq_config)
        assert isinstance(policy, EQPolicy)
        policy.start()
        for e in ("anger", "joy", "anger"):
            policy.choose(reading(e), INITIAL)
        policy.finish(False)
        assert np.array_equal(policy.model.creditor_payoff, eq_config.model.creditor_payoff)
        assert policy.learned.episodes == 0
        assert policy.learns is False
    assert make_policy("eq", eq_config).learns is True
    assert make_policy("eq-context", eq_config).learns is True
    assert not any(make_policy(n, eq_config).learns for n in POLICY_NAMES if n not in ("eq", "eq-context"))


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_to_dict_load_dict_resumes_a_negotiation_exactly(eq_config, name):
    history = ["anger", "sadness", "anger", "joy", "fear", "anger", "disgust", "anger"]
    original = make_policy(name, eq_config, seed=11)
    original.start()
    for e in history[:4]:
        original.choose(reading(e), INITIAL)
    saved = json.loads(json.dumps(original.to_dict()))
    resumed = make_policy(name, eq_config, seed=99).load_dict(saved)
    for e in history[4:]:
        a, b = original.choose(reading(e), INITIAL), resumed.choose(reading(e), INITIAL)
        assert a == b


def test_session_reports_each_replys_terms_to_the_eq_policy():
    """The session's optional observe_terms hook feeds the eq policy's per-turn learning."""
    import datetime

    from eq_negotiator_ros.eq.records import Scenario
    from eq_negotiator_ros.eq.session import NegotiationSession

    config = load_config()
    policy = make_policy("eq", config.eq, seed=1)
    tracker = HiddenStateTracker.from_config(config.eq, policy.model)
    scenario = Scenario(
        scenario_id="s1", creditor_target_days=20, debtor_target_days=150, outstanding_balance=5000.0
    )
    session = NegotiationSession(scenario, config, policy, tracker, "sid", today=datetime.date(2025, 1, 1))
    session.open()
    neutral = EmotionReading((0, 0, 0, 0, 0, 0, 1.0), "test")
    session.step("I can pay in 150 days.", neutral)  # the anchor: not scored
    assert policy.to_dict()["rewards"] == []
    session.step("Fine, 120 days then.", neutral)
    rewards = policy.to_dict()["rewards"]
    assert len(rewards) == 1 and rewards[0][0] == "neutral"
    assert 0.0 < rewards[0][1] < 1.0  # part of the gap closed, no agreement
    policy.finish(False)
    assert policy.learned.reward_array[EMOTIONS.index("neutral"), 0] == 1


# ---------------------------------------------------------------------------------------------
# "released": the authors' code as it behaves (Yunbo-max/EQ-Negotiator at f0bf8a4), by hand.
# Their driver first calls select_emotion("Neutral") with the engine's current emotion Neutral;
# WSLS then answers the neutral row 3 3 1 2 3 2 3 with its first maximum: joy, and remembers the
# pick's payoff 3. Their payoff table is an integer array: += 0.05 * reward truncates toward 0.
# ---------------------------------------------------------------------------------------------


def test_released_opens_with_joy_decided_on_a_made_up_neutral_turn(eq_config):
    policy = make_policy("released", eq_config)
    opening = policy.start()
    assert opening.creditor_emotion == "joy"
    assert policy.to_dict()["debtor_history"] == ["neutral"]
    assert policy.to_dict()["chosen"] == ["joy"]
    # The configured opening emotion plays no part, as in their code.
    assert make_policy("released", with_opening(eq_config, "anger")).start().creditor_emotion == "joy"


def test_released_sequence_by_hand(eq_config):
    # Recorded debtor emotions: neutral (made up), then the replies. Picks:
    #   joy reply:      joy row 4 3 2 1 3 2 3 -> joy (4); previous pick paid 3, no shift
    #   anger reply:    anger row 1 1 1 0 2 1 2 -> surprise (first 2); previous paid 4
    #   disgust reply:  disgust row 2 1 0 0 1 2 2 -> joy (first 2); previous paid 2, not below 2
    #   anger reply:    last five N J A D A, 3 negative: WSLS -> surprise
    #   sadness reply:  last five J A D A S, 4 negative: HMM branch -> joy (their score
    #                   sum_s P(s') w(s', e) * max_d response[e, d]: the cooperative-leaning
    #                   belief their update keeps after joy and surprise makes joy .6 x E[w(s', joy)]
    #                   the largest)
    policy = make_policy("released", eq_config)
    policy.start()
    picks = [policy.choose(reading(e), INITIAL) for e in ("joy", "anger", "disgust", "anger", "sadness")]
    assert [(d.creditor_emotion, d.branch) for d in picks] == [
        ("joy", "released_wsls"),
        ("surprise", "released_wsls"),
        ("joy", "released_wsls"),
        ("surprise", "released_wsls"),
        ("joy", "released_hmm"),
    ]


def test_released_learning_truncates_like_an_integer_table(eq_config):
    policy = make_policy("released", eq_config)
    published = eq_config.model.creditor_payoff
    policy.start()
    for e in ("joy", "anger", "disgust", "anger", "sadness"):
        policy.choose(reading(e), INITIAL)
    policy.finish(True)
    # A success adds 0.05 to integer cells: nothing changes.
    assert np.array_equal(policy.payoff, published.astype(int))
    policy.start()
    for e in ("joy", "anger", "disgust", "anger", "sadness"):
        policy.choose(reading(e), INITIAL)
    policy.finish(False)
    # A failure: -0.025 per zipped (recorded debtor emotion, pick after it), truncated: -1 each.
    # Pairs: (neutral, joy) (joy, joy) (anger, surprise) (disgust, joy) (anger, surprise) (sadness, joy).
    expected = published.astype(int).copy()
    i = EMOTIONS.index
    for d, c in (
        ("neutral", "joy"),
        ("joy", "joy"),
        ("anger", "surprise"),
        ("disgust", "joy"),
        ("anger", "surprise"),
        ("sadness", "joy"),
    ):
        expected[i(d), i(c)] = max(0, expected[i(d), i(c)] - 1)
    assert np.array_equal(policy.payoff, expected)
    assert policy.payoff[i("anger"), i("surprise")] == 0  # 2 - 1 - 1: the floor is 0, never negative
    assert policy.payoff.dtype.kind == "i"


def test_released_learns_from_the_made_up_turn_even_without_replies(eq_config):
    # Each failed negotiation with no reply costs the (neutral, opening) cell 1, and the opening
    # moves to the next first maximum of the neutral row:
    #   3 3 1 2 3 2 3 -> joy;  2 3 1 2 3 2 3 -> sadness;  2 2 1 2 3 2 3 -> surprise;
    #   2 2 1 2 2 2 3 -> neutral;  2 2 1 2 2 2 2 -> joy again.
    policy = make_policy("released", eq_config)
    openings = []
    for _ in range(5):
        openings.append(policy.start().creditor_emotion)
        policy.finish(False)
    assert openings == ["joy", "sadness", "surprise", "neutral", "joy"]
    assert policy.payoff[EMOTIONS.index("neutral")].tolist() == [1, 2, 1, 2, 2, 2, 2]


def test_released_response_learning_pairs_each_reply_with_the_pick_after_it(eq_config):
    policy = make_policy("released", eq_config)
    policy.start()  # made-up neutral -> joy
    policy.choose(reading("anger"), INITIAL)  # -> surprise: t = 1 pairs (surprise, anger)
    policy.choose(reading("joy"), INITIAL)  # -> joy: t = 2 pairs (joy, joy)
    policy.finish(True)
    s, a, j = EMOTIONS.index("surprise"), EMOTIONS.index("anger"), EMOTIONS.index("joy")
    published = eq_config.model.response
    assert policy.response[s, a] == pytest.approx((published[s, a] + 0.03) / 1.03)
    assert policy.response[j, j] == pytest.approx((published[j, j] + 0.03) / 1.03)
    # The made-up turn (t = 0) adds no count.
    n = EMOTIONS.index("neutral")
    assert np.allclose(policy.response[n], published[n])


def test_released_shifts_to_the_second_place_once_its_pick_paid_below_two(eq_config):
    # Table after learning (loaded as state): neutral row 0 0 0 0 0 0 1, joy row 4 3 2 1 0 0 0.
    policy = make_policy("released", eq_config)
    policy.start()
    state = policy.to_dict()
    table = np.array(eq_config.model.creditor_payoff, dtype=int)
    table[EMOTIONS.index("neutral")] = [0, 0, 0, 0, 0, 0, 1]
    table[EMOTIONS.index("joy")] = [4, 3, 2, 1, 0, 0, 0]
    state["payoff"] = table.tolist()
    policy.load_dict(state)
    opening = policy.start()  # made-up neutral: first maximum neutral (1), which paid 1 < 2
    assert opening.creditor_emotion == "neutral"
    shift = policy.choose(reading("joy"), INITIAL)  # shift: second place of 4 3 2 1 0 0 0 is sadness
    assert (shift.creditor_emotion, shift.branch) == ("sadness", "released_wsls_shift")
    stay = policy.choose(reading("joy"), INITIAL)  # sadness paid 3: no shift, first maximum
    assert (stay.creditor_emotion, stay.branch) == ("joy", "released_wsls")


def test_released_shift_among_ties_is_numpys_default_sort(eq_config):
    # Joy row 4 3 2 1 3 2 3: sadness, surprise and neutral tie for second. Their code takes
    # np.argsort(row)[::-1][1], not a stable sort: on numpy 2.4 with AVX-512 that is surprise.
    policy = make_policy("released", eq_config)
    state = policy.to_dict()
    table = np.array(eq_config.model.creditor_payoff, dtype=int)
    table[EMOTIONS.index("neutral")] = [0, 0, 0, 0, 0, 0, 1]
    state["payoff"] = table.tolist()
    policy.load_dict(state)
    policy.start()
    decision = policy.choose(reading("joy"), INITIAL)
    row = table[EMOTIONS.index("joy")]
    assert decision.branch == "released_wsls_shift"
    assert decision.creditor_emotion == EMOTIONS[int(np.argsort(row)[::-1][1])]
    assert decision.creditor_emotion in ("sadness", "surprise", "neutral")


# ---------------------------------------------------------------------------------------------
# eq-context: the contextual bandit learns what works per situation
# ---------------------------------------------------------------------------------------------

THREAT = "I'll see you in court, my lawyer is ready."
HARDSHIP = "I lost my job and I can't afford the rent."


def play(policy, utterance, right_emotion, replies=3):
    """A negotiation against a toy world: utility = the share of the opening and the context
    decision (the last shown emotion answers the closing reply) that showed right_emotion."""
    policy.start()
    shown = []
    for _ in range(replies):
        policy.observe_utterance(utterance)
        shown.append(policy.choose(reading("neutral"), INITIAL).creditor_emotion)
    decided = shown[:-1]  # the last one answers the closing reply
    utility = sum(e == right_emotion for e in decided) / len(decided)
    policy.observe_outcome(100.0 / max(utility, 1e-9) if utility > 0 else None, 100.0)
    policy.finish(utility > 0)
    return shown


def test_eq_learns_which_emotion_works_in_which_situation(eq_config):
    policy = make_policy("eq-context", eq_config, seed=4)
    for episode in range(300):
        if episode % 2:
            play(policy, THREAT, "anger")
        else:
            play(policy, HARDSHIP, "sadness")
    policy._exploration = 0.0  # read what was learned, without exploration
    assert play(policy, THREAT, "anger")[1] == "anger"
    assert play(policy, HARDSHIP, "sadness")[1] == "sadness"


def test_the_literature_prior_gives_way_to_what_is_observed(eq_config):
    # The paper's table ranks fear last; in this world fear is the only emotion that works.
    greedy = dataclasses.replace(eq_config, learning=dataclasses.replace(eq_config.learning, explore=False))
    values = make_policy("eq-context", greedy).start().expected_payoffs
    assert values[EMOTIONS.index("fear")] == min(values) and values[EMOTIONS.index("neutral")] == max(values)
    policy = make_policy("eq-context", eq_config, seed=5)
    for _ in range(120):
        play(policy, "Fine.", "fear")
    policy._exploration = 0.0
    assert play(policy, "Fine.", "fear") == ["fear"] * 3


def test_eq_utility_uses_exact_terms_when_given_and_estimates_them_otherwise(eq_config):
    from eq_negotiator_ros.eq.policy import ContextualEQPolicy

    policy = make_policy("eq-context", eq_config, seed=1)
    assert isinstance(policy, ContextualEQPolicy)
    policy.start()
    policy.choose(reading("neutral"), INITIAL)
    policy.observe_terms(90, 30, False)  # the standing offer before the first reply: the target, 30
    policy.choose(reading("neutral"), INITIAL)
    policy.observe_terms(60, 40, True)  # agreed at the debtor's 60 days
    policy.finish(True)
    assert policy.last_utility == pytest.approx(0.5)  # 30 / 60
    policy.start()
    policy.choose(reading("neutral"), INITIAL)
    policy.observe_terms(90, 30, True)
    policy.observe_outcome(45, 30)
    policy.finish(True)
    assert policy.last_utility == pytest.approx(30 / 45)


def test_eq_credits_the_opening_and_the_context_decision_once_each(eq_config):
    policy = make_policy("eq-context", eq_config, seed=1)
    opening = policy.start().creditor_emotion
    shown = [policy.choose(reading("anger"), INITIAL) for _ in range(4)]
    # The opening is kept until context_replies (2) replies were heard, then one context decision
    # is kept to the end.
    assert [d.branch for d in shown] == ["opening_hold", "context", "context_hold", "context_hold"]
    assert shown[0].creditor_emotion == opening
    assert len({d.creditor_emotion for d in shown[1:]}) == 1
    policy.finish(False)
    assert policy.opening_bandit.counts.sum() == pytest.approx(1.0)
    assert policy.bandit.counts.sum() == pytest.approx(1.0)
    # A negotiation that ends at the context decision credits only the opening.
    policy.start()
    policy.choose(reading("anger"), INITIAL)
    policy.choose(reading("anger"), INITIAL)
    policy.finish(True)
    assert policy.opening_bandit.counts.sum() == pytest.approx(2.0)
    assert policy.bandit.counts.sum() == pytest.approx(1.0)


def test_eq_learned_state_survives_a_restart(tmp_path, eq_config):
    from eq_negotiator_ros.eq.learning import load_learned_state, save_learned

    policy = make_policy("eq-context", eq_config, seed=2)
    for _ in range(5):
        play(policy, THREAT, "anger")
    path = save_learned(tmp_path / "learned.json", policy.learned)
    learned, note = load_learned_state(path, eq_config.model)
    restarted = make_policy("eq-context", eq_config, learned=learned)
    assert restarted.learned.episodes == 5
    assert np.allclose(restarted.bandit.to_dict()["xx"], policy.bandit.to_dict()["xx"])
    assert restarted.bandit.mean_utility == pytest.approx(policy.bandit.mean_utility)
    assert restarted.opening_bandit.counts.sum() == 5
    assert restarted.learned.policy_state["baseline"] == policy.learned.policy_state["baseline"]


def test_eq_ignores_a_damaged_policy_state_and_says_so(eq_config):
    from eq_negotiator_ros.eq.learning import LearnedModel

    learned = dataclasses.replace(LearnedModel.from_priors(eq_config.model), policy_state={"format": "other"})
    policy = make_policy("eq-context", eq_config, learned=learned)
    assert "ignored" in policy.load_note
    assert policy.bandit.counts.sum() == 0
    assert policy.start().creditor_emotion in EMOTIONS


def test_eq_without_exploration_is_deterministic(eq_config):
    settings = dataclasses.replace(eq_config.learning, explore=False)
    config = dataclasses.replace(eq_config, learning=settings)
    a, b = make_policy("eq-context", config, seed=1), make_policy("eq-context", config, seed=2)
    for _ in range(10):
        assert play(a, THREAT, "anger") == play(b, THREAT, "anger")
