"""sim/metrics.py on a hand-computed example."""

import pytest

from eq_negotiator_ros.sim.metrics import (
    EpisodeResult,
    bootstrap_ci,
    group_metrics,
    intervals_overlap,
    summarize,
)


def episode(i, success, days, target, utterances, **extra):
    return EpisodeResult(
        policy="eq",
        persona="cheating",
        episode=i,
        scenario_id=f"s{i}",
        success=success,
        collection_days=days if success else None,
        creditor_target_days=target,
        utterances=utterances,
        **extra,
    )


EXAMPLE = [
    episode(0, True, 20, 10, 10, creditor_replies=5, guard_fallbacks=1, guard_violations=2),
    episode(1, True, 15, 10, 14, creditor_replies=7),
    episode(2, False, None, 10, 30, creditor_replies=15, guard_fallbacks=2, guard_violations=1),
    episode(3, True, 5, 5, 6, creditor_replies=3),
]


def test_hand_computed_example():
    m = group_metrics("eq", "cheating", EXAMPLE, guarded=True)
    assert m.episodes == 4 and m.successes == 3
    assert m.success_rate == pytest.approx(0.75)
    # Successful only: days 20, 15, 5.
    assert m.avg_collection_days == pytest.approx((20 + 15 + 5) / 3)
    # Multiples 2.0, 1.5, 1.0.
    assert m.debt_multiple == pytest.approx(1.5)
    # Recovery 1 - |20-10|/10 = 0, 1 - 5/10 = 0.5, 1 - 0 = 1.
    assert m.recovery_rate == pytest.approx(0.5)
    assert m.avg_utterances == pytest.approx((10 + 14 + 6) / 3)
    assert m.avg_utterances_all == pytest.approx((10 + 14 + 30 + 6) / 4)
    # 3 of 30 creditor replies fell back to the template; 3 rejected sentences.
    assert m.guard_fallback_rate == pytest.approx(3 / 30)
    assert m.guard_violations == 3


def test_intervals_contain_the_estimate_and_are_seeded():
    m = group_metrics("eq", "cheating", EXAMPLE * 5, seed=4)
    again = group_metrics("eq", "cheating", EXAMPLE * 5, seed=4)
    assert m.ci95 == again.ci95
    for name in ("success_rate", "avg_collection_days", "debt_multiple", "recovery_rate"):
        low, high = m.ci95[name]
        assert low <= getattr(m, name) <= high and low < high


def test_no_success_gives_none_not_nan():
    m = group_metrics("eq", "victim", [episode(0, False, None, 10, 30)])
    assert m.success_rate == 0.0
    assert m.avg_collection_days is None and m.debt_multiple is None and m.recovery_rate is None
    assert m.ci95["debt_multiple"] is None and m.ci95["success_rate"] == (0.0, 0.0)
    assert m.guard_fallback_rate is None


def test_summarize_groups_by_policy_and_persona_in_order():
    other = [EpisodeResult("vanilla", "cheating", 0, "s", False, None, 10, 30)]
    groups = summarize(EXAMPLE + other)
    assert [(g.policy, g.persona) for g in groups] == [("eq", "cheating"), ("vanilla", "cheating")]
    assert groups[0].to_dict()["ci95"]["success_rate"][0] <= 0.75


def test_bootstrap_edge_cases():
    assert bootstrap_ci([]) is None
    assert bootstrap_ci([3.0]) == (3.0, 3.0)
    low, high = bootstrap_ci([0, 1] * 50, seed=1)
    assert 0.38 < low < 0.5 < high < 0.62
    assert intervals_overlap((0, 1), (0.5, 2)) and not intervals_overlap((0, 1), (1.5, 2))
    assert intervals_overlap(None, (0, 1))


def test_utility_counts_success_and_closeness_to_the_target_together():
    results = [
        episode(0, True, 30, 30, 10),  # at the target: 1
        episode(1, True, 60, 30, 10),  # twice the target: 0.5
        episode(2, False, None, 30, 30),  # failure: 0
    ]
    m = group_metrics("eq", "cheating", results)
    assert m.utility == pytest.approx(0.5)
    low, high = m.ci95["utility"]
    assert low <= m.utility <= high
