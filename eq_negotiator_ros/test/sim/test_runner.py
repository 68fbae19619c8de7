"""sim/runner.py: real session, policies, tracker, detector and templates against the simulator."""

import pytest

from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.eq.detection import TrainedEmotionDetector
from eq_negotiator_ros.eq.policy import make_policy
from eq_negotiator_ros.sim.debtor import DebtorSimulator, load_personas
from eq_negotiator_ros.sim.runner import (
    BenchError,
    BenchPlan,
    TemplateCreditor,
    run_benchmark,
    run_negotiation,
    scenario_order,
)
from eq_negotiator_ros.sim.scenarios import load_scenarios

CONFIG = load_config(overrides={"eq.learning.state_path": ""})
SCENARIOS = tuple(load_scenarios())
PERSONAS = load_personas()


@pytest.fixture(scope="module")
def detector():
    return TrainedEmotionDetector.load()


def plan(**changes):
    values = dict(
        config=CONFIG,
        scenarios=SCENARIOS,
        personas=(PERSONAS["cheating"], PERSONAS["stonewalling"]),
        policies=("eq", "released"),
        episodes=4,
        seed=7,
    )
    values.update(changes)
    return BenchPlan(**values)


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_negotiation_ends_within_the_utterance_limit(detector, persona):
    limit = CONFIG.offer.max_utterances
    policy = make_policy("eq", CONFIG.eq, seed=0)
    debtor = DebtorSimulator(PERSONAS[persona], CONFIG.eq.model)
    for episode in range(6):
        trace = run_negotiation(
            scenario=SCENARIOS[episode],
            config=CONFIG,
            policy=policy,
            debtor=debtor,
            debtor_seed=episode,
            detector=detector,
            creditor_words=TemplateCreditor(),
            episode=episode,
            persona_name=persona,
        )
        result = trace.result
        assert result.utterances <= limit
        assert result.debtor_turns <= limit // 2
        # The session's closing line after the 30th utterance is spoken but not counted.
        assert len(trace.transcript) in (result.utterances, result.utterances + 1)
        assert trace.transcript[0][0] == "creditor"
        if result.success:
            assert result.collection_days is not None and result.collection_days >= 1
        else:
            assert result.collection_days is None and result.utterances == limit


def test_same_seed_same_results_and_another_seed_differs():
    a = run_benchmark(plan()).results
    b = run_benchmark(plan()).results
    assert a == b
    c = run_benchmark(plan(seed=8)).results
    assert a != c


def test_results_do_not_depend_on_workers():
    one = run_benchmark(plan(workers=1)).results
    two = run_benchmark(plan(workers=2)).results
    assert one == two
    assert [(r.policy, r.persona, r.episode) for r in one][:5] == [
        ("eq", "cheating", 0),
        ("eq", "cheating", 1),
        ("eq", "cheating", 2),
        ("eq", "cheating", 3),
        ("eq", "stonewalling", 0),
    ]


def test_policies_meet_the_same_scenarios():
    results = run_benchmark(plan()).results
    by_policy = {}
    for r in results:
        by_policy.setdefault(r.policy, []).append((r.persona, r.scenario_id))
    assert by_policy["eq"] == by_policy["released"]


@pytest.mark.parametrize("learning", [True, False])
def test_the_eq_policy_learns_from_each_finished_negotiation_unless_switched_off(detector, learning):
    config = load_config(overrides={"eq.learning.state_path": "", "eq.learning.enabled": learning})
    policy = make_policy("eq", config.eq, seed=0)
    before = policy.model.response.copy()
    debtor = DebtorSimulator(PERSONAS["angry"], config.eq.model)
    for episode in range(3):
        run_negotiation(
            scenario=SCENARIOS[episode],
            config=config,
            policy=policy,
            debtor=debtor,
            debtor_seed=episode,
            detector=detector,
            creditor_words=TemplateCreditor(),
            episode=episode,
            persona_name="angry",
        )
    assert (policy.model.response != before).any() == learning


def test_scenario_order_cycles_through_every_scenario():
    order = scenario_order(5, 12, seed=1)
    assert sorted(order[:5]) == list(range(5)) and sorted(order[5:10]) == list(range(5))
    assert order == scenario_order(5, 12, seed=1) and order != scenario_order(5, 12, seed=2)


def test_bad_plans_are_refused_with_a_reason():
    with pytest.raises(BenchError, match="creditor mode"):
        run_benchmark(plan(creditor="gpt"))
    with pytest.raises(BenchError, match="episodes"):
        run_benchmark(plan(episodes=0))
    with pytest.raises(BenchError, match="scenarios"):
        run_benchmark(plan(scenarios=()))


def test_llm_creditor_counts_fallbacks_and_guard_violations(monkeypatch):
    from eq_negotiator_ros.llm.phrasing import ReplySentence
    from eq_negotiator_ros.sim.runner import LlmCreditor

    replies = iter(
        [
            [ReplySentence(0, "We can agree on 12 days.", True, False)],
            [
                ReplySentence(0, "Let me be clear.", False, False),
                ReplySentence(1, "The offer is 12 days.", True, True, "guard: wrong number"),
            ],
            [ReplySentence(0, "The offer is 12 days.", True, True, "timeout: too slow")],
        ]
    )
    creditor = LlmCreditor(llama=None, config=CONFIG)
    monkeypatch.setattr(creditor, "_phrase_reply", lambda *args, **options: next(replies))
    said = [creditor(None, SCENARIOS[0], []) for _ in range(3)]
    assert [s.fallbacks for s in said] == [0, 1, 1]
    assert [s.violations for s in said] == [0, 1, 0]
    assert said[1].text == "Let me be clear. The offer is 12 days."


def population_plan(**changes):
    values = dict(
        config=CONFIG,
        scenarios=SCENARIOS,
        personas=(PERSONAS["cheating"], PERSONAS["stonewalling"], PERSONAS["sad"]),
        policies=("eq", "vanilla"),
        episodes=1,
        seed=7,
        population_weights=(1.0, 1.0, 2.0),
        population_negotiations=12,
    )
    values.update(changes)
    return BenchPlan(**values)


def test_population_stream_draws_hidden_personas_the_same_for_every_policy():
    from eq_negotiator_ros.sim.runner import run_population

    results = run_population(population_plan()).results
    by_policy = {}
    for r in results:
        by_policy.setdefault(r.policy, []).append((r.episode, r.persona, r.scenario_id))
    assert by_policy["eq"] == by_policy["vanilla"]
    assert [e for e, _, _ in by_policy["eq"]] == list(range(12))
    assert len({p for _, p, _ in by_policy["eq"]}) > 1
    assert run_population(population_plan()).results == results
    assert run_population(population_plan(workers=2)).results == results


def test_population_weights_decide_the_mix():
    from eq_negotiator_ros.sim.runner import population_personas

    drawn = population_personas((0.0, 1.0, 3.0), 400, seed=1)
    assert 0 not in drawn
    assert 250 < drawn.count(2) < 350


def test_population_stream_learns_across_personas(detector):
    import eq_negotiator_ros.eq.policy as policy_module
    from eq_negotiator_ros.sim.runner import run_stream

    made = []
    original = policy_module.make_policy

    def keep(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    policy_module.make_policy = keep
    try:
        run_stream(population_plan(policies=("eq-context",)), "eq-context")
    finally:
        policy_module.make_policy = original
    assert len(made) == 1  # one policy for the whole stream
    assert made[0].opening_bandit.counts.sum() == 12


def test_bad_population_plans_are_refused_with_a_reason():
    from eq_negotiator_ros.sim.runner import run_population

    with pytest.raises(BenchError, match="weights"):
        run_population(population_plan(population_weights=(0.0, 0.0, 0.0)))
    with pytest.raises(BenchError, match="one per persona"):
        run_population(population_plan(population_weights=(1.0,)))
    with pytest.raises(BenchError, match="at least 1"):
        run_population(population_plan(population_negotiations=0))
    with pytest.raises(BenchError, match="reciprocity"):
        run_population(population_plan(reciprocity=2.0))


def test_eq_context_learns_the_exact_utility_from_the_simulator(detector):
    policy = make_policy("eq-context", CONFIG.eq, seed=0)
    debtor = DebtorSimulator(PERSONAS["vanilla"], CONFIG.eq.model)
    utilities = []
    for episode in range(4):
        trace = run_negotiation(
            scenario=SCENARIOS[episode],
            config=CONFIG,
            policy=policy,
            debtor=debtor,
            debtor_seed=episode,
            detector=detector,
            creditor_words=TemplateCreditor(),
            episode=episode,
            persona_name="vanilla",
        )
        r = trace.result
        expected = min(1.0, r.creditor_target_days / r.collection_days) if r.success else 0.0
        assert policy.last_utility == pytest.approx(expected)
        utilities.append(expected)
    assert policy.opening_bandit.counts.sum() == 4
