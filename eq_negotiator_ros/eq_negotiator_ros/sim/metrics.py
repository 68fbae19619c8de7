"""Benchmark metrics per creditor policy and debtor persona (the EQ-Negotiator authors' metrics).

* success rate: share of negotiations that reached an agreement;
* average collection days: agreed repayment timeline, successful negotiations only;
* average utterances: both sides, to agreement (successful negotiations only, as the paper counts
  them), and over all negotiations (`avg_utterances_all`: failures run to the 30-utterance limit);
* debt multiple: agreed days / creditor target days, per negotiation, averaged over successful
  ones (1.0 = the creditor's target; lower is better);
* recovery rate: 1 - |agreed days - target| / target, successful only (the paper's formula; it is
  negative when the agreed timeline is more than twice the target, and is not clipped);
* guard fallback rate and violations: with --creditor llm, the share of creditor replies the
  written template replaced, and the number of model sentences the guard rejected;
* creditor utility (eq/utility.py): per negotiation 0 on failure, min(1, target / agreed days)
  on success, averaged over all negotiations: the one objective that counts success and days
  together (a policy cannot raise it by conceding days for agreements that would have come anyway).

95% confidence intervals are percentile bootstrap intervals over negotiations (seeded numpy).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from ..eq.utility import creditor_utility

CI_METRICS: tuple[str, ...] = (
    "success_rate",
    "avg_collection_days",
    "avg_utterances",
    "avg_utterances_all",
    "debt_multiple",
    "recovery_rate",
    "utility",
)
DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class EpisodeResult:
    """One finished negotiation of the benchmark."""

    policy: str
    persona: str
    episode: int
    scenario_id: str
    success: bool
    collection_days: Optional[int]  # agreed repayment timeline; None on failure
    creditor_target_days: int
    utterances: int  # both sides
    creditor_replies: int = 0
    guard_fallbacks: int = 0  # creditor replies the written template replaced (--creditor llm)
    guard_violations: int = 0  # model sentences the guard rejected (--creditor llm)
    debtor_model_replies: int = 0  # debtor turns the language model wrote (--debtor llm)
    debtor_turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GroupMetrics:
    """Metrics of one (policy, persona) cell. A metric over successful negotiations is None when
    there was none."""

    policy: str
    persona: str
    episodes: int
    successes: int
    success_rate: float
    avg_collection_days: Optional[float]
    avg_utterances: Optional[float]  # successful negotiations only
    avg_utterances_all: float
    debt_multiple: Optional[float]
    recovery_rate: Optional[float]
    guard_fallback_rate: Optional[float]  # None when no creditor reply went through the guard
    guard_violations: int
    debtor_model_share: Optional[float]  # share of debtor turns the model wrote (None: phrasebank)
    utility: float = 0.0  # mean creditor utility over all negotiations (eq/utility.py)
    ci95: dict[str, Optional[tuple[float, float]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ci95"] = {k: (list(v) if v is not None else None) for k, v in self.ci95.items()}
        return data


def summarize(
    results: Iterable[EpisodeResult],
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    guarded: bool = False,
    debtor_model: bool = False,
) -> list[GroupMetrics]:
    """Metrics per (policy, persona), in order of first appearance. `guarded`: the creditor's
    replies went through the guard (--creditor llm); `debtor_model`: --debtor llm."""
    groups: dict[tuple[str, str], list[EpisodeResult]] = {}
    for result in results:
        groups.setdefault((result.policy, result.persona), []).append(result)
    return [
        group_metrics(
            policy,
            persona,
            episodes,
            seed=seed,
            resamples=resamples,
            confidence=confidence,
            guarded=guarded,
            debtor_model=debtor_model,
        )
        for (policy, persona), episodes in groups.items()
    ]


def group_metrics(
    policy: str,
    persona: str,
    episodes: Sequence[EpisodeResult],
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    guarded: bool = False,
    debtor_model: bool = False,
) -> GroupMetrics:
    if not episodes:
        raise ValueError(f"no episodes for policy {policy!r} and persona {persona!r}")
    success = np.array([e.success for e in episodes], dtype=float)
    won = [e for e in episodes if e.success and e.collection_days is not None]
    days = np.array([e.collection_days for e in won], dtype=float)
    targets = np.array([max(1, e.creditor_target_days) for e in won], dtype=float)
    multiple = days / targets if won else np.array([])
    recovery = 1.0 - np.abs(days - targets) / targets if won else np.array([])
    utterances_won = np.array([e.utterances for e in won], dtype=float)
    utterances_all = np.array([e.utterances for e in episodes], dtype=float)
    utility = np.array([episode_utility(e) for e in episodes], dtype=float)

    samples = {
        "success_rate": success,
        "avg_collection_days": days,
        "avg_utterances": utterances_won,
        "avg_utterances_all": utterances_all,
        "debt_multiple": multiple,
        "recovery_rate": recovery,
        "utility": utility,
    }
    # One seeded stream per cell and metric, independent of cell order and of --workers.
    ci = {
        name: bootstrap_ci(
            values, seed=_stream_seed(seed, policy, persona, name), resamples=resamples, confidence=confidence
        )
        for name, values in samples.items()
    }
    replies = sum(e.creditor_replies for e in episodes)
    debtor_turns = sum(e.debtor_turns for e in episodes)
    return GroupMetrics(
        policy=policy,
        persona=persona,
        episodes=len(episodes),
        successes=len(won),
        success_rate=float(success.mean()),
        avg_collection_days=_mean(days),
        avg_utterances=_mean(utterances_won),
        avg_utterances_all=float(utterances_all.mean()),
        debt_multiple=_mean(multiple),
        recovery_rate=_mean(recovery),
        guard_fallback_rate=(sum(e.guard_fallbacks for e in episodes) / replies)
        if guarded and replies
        else None,
        guard_violations=sum(e.guard_violations for e in episodes),
        debtor_model_share=(sum(e.debtor_model_replies for e in episodes) / debtor_turns)
        if debtor_model and debtor_turns
        else None,
        utility=float(utility.mean()),
        ci95=ci,
    )


def episode_utility(result: EpisodeResult) -> float:
    """The creditor utility of one negotiation (eq/utility.py)."""
    return creditor_utility(result.success, result.collection_days, result.creditor_target_days)


def bootstrap_ci(
    values: np.ndarray | Sequence[float],
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Optional[tuple[float, float]]:
    """Percentile bootstrap interval of the mean; None without data, (x, x) for one value."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return None
    if values.size == 1 or np.all(values == values[0]):
        return (float(values[0]), float(values[0]))
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return (float(low), float(high))


def _mean(values: np.ndarray) -> Optional[float]:
    return float(values.mean()) if values.size else None


def _stream_seed(seed: int, policy: str, persona: str, metric: str) -> int:
    return zlib.crc32(f"{seed}/{policy}/{persona}/{metric}".encode("utf-8"))


def intervals_overlap(a: Optional[tuple[float, float]], b: Optional[tuple[float, float]]) -> bool:
    """Whether two confidence intervals overlap (a missing interval overlaps everything)."""
    if a is None or b is None:
        return True
    return a[0] <= b[1] and b[0] <= a[1]
