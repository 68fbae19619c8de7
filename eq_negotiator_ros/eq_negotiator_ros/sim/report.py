"""Benchmark report: a Markdown table and PNG charts (success rate and debt multiple per policy and
persona, with 95% bootstrap intervals as error bars). Writing files is the caller's choice: the
functions return text or take the output path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .metrics import GroupMetrics, intervals_overlap


def _fmt(value: Optional[float], digits: int = 2, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.0f}%" if percent else f"{value:.{digits}f}"


def _fmt_ci(ci: Optional[Sequence[float]], digits: int = 2, percent: bool = False) -> str:
    if ci is None:
        return ""
    low, high = ci
    if percent:
        return f" [{low * 100:.0f}, {high * 100:.0f}]"
    return f" [{low:.{digits}f}, {high:.{digits}f}]"


def markdown_table(metrics: Sequence[GroupMetrics], *, guarded: bool = False) -> str:
    """One row per (policy, persona): the metrics with their 95% intervals."""
    header = [
        "policy",
        "persona",
        "episodes",
        "success rate",
        "collection days",
        "utterances (successful)",
        "utterances (all)",
        "debt multiple",
        "recovery rate",
        "utility",
    ]
    if guarded:
        header += ["guard fallback rate", "guard violations"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for m in metrics:
        row = [
            m.policy,
            m.persona,
            str(m.episodes),
            _fmt(m.success_rate, percent=True) + _fmt_ci(m.ci95.get("success_rate"), percent=True),
            _fmt(m.avg_collection_days, 1) + _fmt_ci(m.ci95.get("avg_collection_days"), 1),
            _fmt(m.avg_utterances, 1),
            _fmt(m.avg_utterances_all, 1),
            _fmt(m.debt_multiple) + _fmt_ci(m.ci95.get("debt_multiple")),
            _fmt(m.recovery_rate) + _fmt_ci(m.ci95.get("recovery_rate")),
            _fmt(m.utility, 3) + _fmt_ci(m.ci95.get("utility"), 3),
        ]
        if guarded:
            row += [_fmt(m.guard_fallback_rate, percent=True), str(m.guard_violations)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def comparison_table(
    metrics: Sequence[GroupMetrics], *, reference: str = "eq", baseline: str = "released"
) -> str:
    """Per persona: is `reference` ahead of every other policy on success rate and debt multiple,
    and do its intervals clear the `baseline`'s? (The benchmark's target, reported, not tuned.)"""
    by_cell = {(m.policy, m.persona): m for m in metrics}
    personas = list(dict.fromkeys(m.persona for m in metrics))
    policies = list(dict.fromkeys(m.policy for m in metrics))
    if reference not in policies:
        return ""
    lines = [
        f"| persona | {reference} success | best other (success) | {reference} debt multiple | "
        f"best other (debt multiple) | success CI clear of {baseline} | debt multiple CI clear of "
        f"{baseline} |",
        "|---|---|---|---|---|---|---|",
    ]
    for persona in personas:
        ref = by_cell.get((reference, persona))
        if ref is None:
            continue
        others = [by_cell[(p, persona)] for p in policies if p != reference and (p, persona) in by_cell]
        best_success = max(others, key=lambda m: m.success_rate, default=None)
        with_multiple = [m for m in others if m.debt_multiple is not None]
        best_multiple = min(with_multiple, key=lambda m: m.debt_multiple, default=None)
        base = by_cell.get((baseline, persona))
        success_clear = (
            "-"
            if base is None
            else (
                "yes"
                if not intervals_overlap(ref.ci95.get("success_rate"), base.ci95.get("success_rate"))
                and ref.success_rate > base.success_rate
                else "no"
            )
        )
        multiple_clear = (
            "-"
            if base is None or ref.debt_multiple is None or base.debt_multiple is None
            else (
                "yes"
                if not intervals_overlap(ref.ci95.get("debt_multiple"), base.ci95.get("debt_multiple"))
                and ref.debt_multiple < base.debt_multiple
                else "no"
            )
        )
        lines.append(
            f"| {persona} | {_fmt(ref.success_rate, percent=True)} | "
            + (
                f"{best_success.policy} {_fmt(best_success.success_rate, percent=True)}"
                if best_success
                else "-"
            )
            + f" | {_fmt(ref.debt_multiple)} | "
            + (f"{best_multiple.policy} {_fmt(best_multiple.debt_multiple)}" if best_multiple else "-")
            + f" | {success_clear} | {multiple_clear} |"
        )
    return "\n".join(lines) + "\n"


def markdown_report(
    metrics: Sequence[GroupMetrics],
    *,
    settings: Mapping[str, Any],
    negotiations_per_minute: float,
    guarded: bool = False,
) -> str:
    parts = [
        "# EQ-Negotiator agent-to-agent benchmark\n",
        "Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()) + "\n",
        f"Throughput: {negotiations_per_minute:.0f} negotiations per minute.\n",
        "Utterances count both sides; '(successful)' averages successful negotiations only, as the "
        "paper does. Collection days, debt multiple (agreed days / creditor target, lower is better) "
        "and recovery rate (1 - |agreed - target| / target) are over successful negotiations. "
        "Brackets: 95% bootstrap intervals.\n",
        markdown_table(metrics, guarded=guarded),
    ]
    summary = policy_summary_table(metrics)
    if summary:
        parts += ["\n## Per policy, mean over personas\n", summary]
    for reference in ("eq", "eq-context"):
        targets = target_check(metrics, reference)
        if targets:
            parts += [f"\n## Targets ({reference})\n", targets]
    comparison = comparison_table(metrics)
    if comparison:
        parts += ["\n## EQ policy against the others\n", comparison]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Summaries across personas and the benchmark's targets
# ---------------------------------------------------------------------------------------------

FIXED_PREFIX = "fixed-"


def _mean_over_personas(metrics: Sequence[GroupMetrics], policy: str, metric: str) -> Optional[float]:
    values = [getattr(m, metric) for m in metrics if m.policy == policy and getattr(m, metric) is not None]
    return float(np.mean(values)) if values else None


def policy_summary(metrics: Sequence[GroupMetrics]) -> list[dict[str, Any]]:
    """Per policy: the mean over its personas of success rate, debt multiple, recovery rate and
    utility (each persona weighs alike, as the paper averages personas)."""
    rows = []
    for policy in dict.fromkeys(m.policy for m in metrics):
        rows.append(
            {
                "policy": policy,
                "personas": sum(1 for m in metrics if m.policy == policy),
                **{
                    k: _mean_over_personas(metrics, policy, k)
                    for k in ("success_rate", "debt_multiple", "recovery_rate", "utility")
                },
            }
        )
    return rows


def policy_summary_table(metrics: Sequence[GroupMetrics]) -> str:
    rows = policy_summary(metrics)
    if not rows:
        return ""
    lines = [
        "| policy | mean success | mean debt multiple | mean recovery rate | mean utility |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['policy']} | {_pct1(row['success_rate'])} | "
            f"{_fmt(row['debt_multiple'])} | {_fmt(row['recovery_rate'])} | {_fmt(row['utility'], 3)} |"
        )
    return "\n".join(lines) + "\n"


def _pct1(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def target_figures(metrics: Sequence[GroupMetrics], reference: str = "eq") -> Optional[dict[str, Any]]:
    """The benchmark's targets, measured: reference's mean success against the best single fixed
    emotion (+1 point) and the best fixed emotion per persona (-2 points), its mean debt multiple
    against vanilla's (+0.05), and whether its utility is the highest. None when the reference or
    the fixed-emotion policies are not in the run."""
    by_cell = {(m.policy, m.persona): m for m in metrics}
    personas = list(dict.fromkeys(m.persona for m in metrics))
    names = list(dict.fromkeys(m.policy for m in metrics))
    fixed = [p for p in names if p.startswith(FIXED_PREFIX)]
    if "vanilla" in names and "fixed-neutral" not in names:
        fixed.append("vanilla")  # vanilla is always neutral: the neutral fixed emotion
    if reference not in {m.policy for m in metrics} or not fixed:
        return None
    summary = {row["policy"]: row for row in policy_summary(metrics)}
    best_single = max(fixed, key=lambda p: summary[p]["success_rate"])
    per_persona = [
        max((by_cell[(p, persona)].success_rate for p in fixed if (p, persona) in by_cell), default=0.0)
        for persona in personas
    ]
    best_per_persona = float(np.mean(per_persona))
    ref = summary[reference]
    vanilla_multiple = summary.get("vanilla", summary.get("fixed-neutral", {})).get("debt_multiple")
    others = [row for p, row in summary.items() if p != reference and row["utility"] is not None]
    best_other_utility = max(others, key=lambda r: r["utility"]) if others else None
    return {
        "reference_success": ref["success_rate"],
        "best_single_fixed": best_single,
        "best_single_fixed_success": summary[best_single]["success_rate"],
        "best_fixed_per_persona_success": best_per_persona,
        "reference_debt_multiple": ref["debt_multiple"],
        "vanilla_debt_multiple": vanilla_multiple,
        "reference_utility": ref["utility"],
        "best_other_utility_policy": best_other_utility["policy"] if best_other_utility else None,
        "best_other_utility": best_other_utility["utility"] if best_other_utility else None,
    }


def target_check(metrics: Sequence[GroupMetrics], reference: str = "eq") -> str:
    figures = target_figures(metrics, reference)
    if figures is None:
        return ""

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    ref = figures["reference_success"]
    single = figures["best_single_fixed_success"]
    per_persona = figures["best_fixed_per_persona_success"]
    lines = [
        "| target | measured | |",
        "|---|---|---|",
        f"| {reference} success >= best single fixed emotion + 1 pt | {_pct1(ref)} vs "
        f"{figures['best_single_fixed']} {_pct1(single)} | {verdict(ref >= single + 0.01)} |",
        f"| {reference} success >= best fixed emotion per persona - 2 pts | {_pct1(ref)} vs "
        f"{_pct1(per_persona)} | "
        f"{verdict(ref >= per_persona - 0.02)} |",
    ]
    multiple, vanilla = figures["reference_debt_multiple"], figures["vanilla_debt_multiple"]
    if multiple is not None and vanilla is not None:
        lines.append(
            f"| {reference} debt multiple <= vanilla + 0.05 | {multiple:.2f} vs {vanilla:.2f} | "
            f"{verdict(multiple <= vanilla + 0.05)} |"
        )
    if figures["best_other_utility"] is not None:
        lines.append(
            f"| {reference} utility the highest | {figures['reference_utility']:.3f} vs "
            f"{figures['best_other_utility_policy']} {figures['best_other_utility']:.3f} | "
            f"{verdict(figures['reference_utility'] >= figures['best_other_utility'])} |"
        )
    return "\n".join(lines) + "\n"


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average (the first points average what exists so far)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return array
    window = max(1, int(window))
    cumulative = np.concatenate([[0.0], np.cumsum(array)])
    index = np.arange(1, array.size + 1)
    start = np.maximum(0, index - window)
    return (cumulative[index] - cumulative[start]) / (index - start)


def write_learning_curve(
    streams: Mapping[str, Sequence[float]], path: Path, *, window: int = 100, label: str = "success"
) -> Path:
    """One line per policy: the moving average of `label` against the negotiation index."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(10.0, 5.5))
    colours = plt.get_cmap("tab20")
    for index, (policy, values) in enumerate(streams.items()):
        width = 2.4 if policy in ("eq", "eq-context") else 1.1
        axes.plot(
            np.arange(1, len(values) + 1),
            moving_average(values, window),
            label=policy,
            color=colours(index % 20),
            linewidth=width,
        )
    axes.set_xlabel("negotiation index (personas drawn from the population, hidden from the creditor)")
    axes.set_ylabel(f"{label}, moving average over {window}")
    axes.set_title(f"Learning curve: {label} against negotiations met")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_charts(metrics: Sequence[GroupMetrics], out_dir: Path) -> list[Path]:
    """success_rate.png and debt_multiple.png: grouped bars per persona, one bar per policy."""
    import matplotlib

    matplotlib.use("Agg")  # no display on robots and CI
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    policies = list(dict.fromkeys(m.policy for m in metrics))
    personas = list(dict.fromkeys(m.persona for m in metrics))
    by_cell = {(m.policy, m.persona): m for m in metrics}
    paths = []
    for metric, label in (
        ("success_rate", "success rate"),
        ("debt_multiple", "debt multiple (lower is better)"),
    ):
        bars = len(personas) * max(1, len(policies))
        figure, axes = plt.subplots(figsize=(min(24.0, max(8.0, 2.0 + 0.14 * bars)), 5.5))
        width = 0.8 / max(1, len(policies))
        x = np.arange(len(personas))
        colours = plt.get_cmap("tab20")
        for index, policy in enumerate(policies):
            values, errors = [], [[], []]
            for persona in personas:
                cell = by_cell.get((policy, persona))
                value = getattr(cell, metric) if cell else None
                ci = cell.ci95.get(metric) if cell else None
                values.append(np.nan if value is None else value)
                low, high = (value, value) if (ci is None or value is None) else ci
                errors[0].append(0.0 if value is None else max(0.0, value - low))
                errors[1].append(0.0 if value is None else max(0.0, high - value))
            axes.bar(
                x + (index - (len(policies) - 1) / 2) * width,
                values,
                width,
                yerr=errors,
                capsize=2,
                label=policy,
                color=colours(index % 20),
            )
        axes.set_xticks(x, personas, rotation=30, ha="right")
        axes.set_ylabel(label)
        axes.set_title(f"{label} per debtor persona (95% bootstrap intervals)")
        axes.legend(fontsize=7, ncol=1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        figure.tight_layout()
        path = out_dir / f"{metric}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    return paths
