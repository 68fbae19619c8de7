"""sim/report.py: the per-policy summary, the targets and the learning curve."""

import numpy as np
import pytest

from eq_negotiator_ros.sim.metrics import EpisodeResult, summarize
from eq_negotiator_ros.sim.report import (
    moving_average,
    policy_summary,
    target_check,
    target_figures,
    write_learning_curve,
)


def results(policy, persona, successes, days=20, target=10):
    return [
        EpisodeResult(
            policy=policy,
            persona=persona,
            episode=i,
            scenario_id=f"s{i}",
            success=bool(s),
            collection_days=days if s else None,
            creditor_target_days=target,
            utterances=10,
        )
        for i, s in enumerate(successes)
    ]


def metrics():
    rows = []
    # persona a: fear 80%, neutral 40%; persona b: fear 40%, neutral 60%.
    rows += results("fixed-fear", "a", [1, 1, 1, 1, 0]) + results("fixed-fear", "b", [1, 1, 0, 0, 0])
    rows += results("vanilla", "a", [1, 1, 0, 0, 0]) + results("vanilla", "b", [1, 1, 1, 0, 0])
    rows += results("eq", "a", [1, 1, 1, 1, 0], days=10) + results("eq", "b", [1, 1, 1, 0, 0], days=10)
    return summarize(rows, resamples=50)


def test_summary_averages_over_personas():
    summary = {row["policy"]: row for row in policy_summary(metrics())}
    assert summary["fixed-fear"]["success_rate"] == pytest.approx(0.6)
    assert summary["vanilla"]["success_rate"] == pytest.approx(0.5)
    assert summary["eq"]["utility"] == pytest.approx((0.8 + 0.6) / 2)  # agreed at the target
    assert summary["vanilla"]["debt_multiple"] == pytest.approx(2.0)


def test_targets_compare_with_the_best_single_and_the_best_per_persona_fixed_emotion():
    figures = target_figures(metrics())
    assert figures["best_single_fixed"] == "fixed-fear"  # vanilla counts as the neutral fixed emotion
    assert figures["best_fixed_per_persona_success"] == pytest.approx((0.8 + 0.6) / 2)
    assert figures["reference_success"] == pytest.approx(0.7)
    assert figures["best_other_utility_policy"] in ("fixed-fear", "vanilla")
    table = target_check(metrics())
    assert table.count("| met |") == 4  # 70% >= 61%, 70% >= 68%, 1.00 <= 2.05, utility highest
    assert target_figures(summarize(results("eq", "a", [1]), resamples=10)) is None


def test_moving_average_and_learning_curve(tmp_path):
    assert np.allclose(moving_average([1, 0, 1, 1], 2), [1.0, 0.5, 0.5, 1.0])
    assert moving_average([], 5).size == 0
    path = write_learning_curve(
        {"eq": [1, 0, 1] * 20, "vanilla": [0, 1] * 30}, tmp_path / "curve.png", window=10
    )
    assert path.is_file() and path.stat().st_size > 1000
