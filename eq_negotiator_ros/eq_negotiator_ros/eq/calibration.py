"""How far the detector's probabilities can be believed: temperature scaling, expected calibration
error and the reliability table (Guo et al. 2017, "On calibration of modern neural networks").

The tracker reads the detector's probabilities as soft evidence (eq/tracker.py), so a reading
that says 0.9 should be right about 9 times in 10: an over-confident detector would move the
belief on a guess, an under-confident one would waste what it knows. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# One parameter, so a grid is exact enough and deterministic (no optimiser settings to tune).
TEMPERATURE_GRID = tuple(float(t) for t in np.round(np.arange(0.25, 5.001, 0.05), 2))
RELIABILITY_BINS = 10


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of a (n, k) or (k,) array."""
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def scaled_probs(
    scores: np.ndarray, temperature: float, mix: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """softmax(scores / temperature), then, with mix = (trust per row, fallback distribution),
    trust * that + (1 - trust) * fallback: what the detector outputs for text it partly knows."""
    probs = np.exp(log_softmax(np.asarray(scores, dtype=np.float64) / temperature))
    if mix is not None:
        trust, fallback = mix
        probs = trust[:, None] * probs + (1.0 - trust[:, None]) * np.asarray(fallback)[None, :]
    return probs


def negative_log_likelihood(
    scores: np.ndarray,
    gold: np.ndarray,
    temperature: float = 1.0,
    mix: tuple[np.ndarray, np.ndarray] | None = None,
) -> float:
    """Mean -log p(gold) of the (mixed) temperature-scaled probabilities."""
    probs = scaled_probs(scores, temperature, mix)
    return -float(np.log(np.maximum(probs[np.arange(len(gold)), gold], 1e-300)).mean())


def fit_temperature(
    scores: np.ndarray, gold: np.ndarray, mix: tuple[np.ndarray, np.ndarray] | None = None
) -> float:
    """The temperature T minimising the NLL on held-out scores, through the same mix with the
    fallback that the detector applies at run time (calibrate what is shipped)."""
    best_t, best_nll = 1.0, math.inf
    for t in TEMPERATURE_GRID:
        nll = negative_log_likelihood(scores, gold, t, mix)
        if nll < best_nll:
            best_t, best_nll = t, nll
    return best_t


@dataclass(frozen=True)
class ReliabilityBin:
    """Utterances whose top probability fell in [low, high): how sure the detector was, and how
    often it was right."""

    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


def reliability_table(
    probs: np.ndarray, gold: np.ndarray, bins: int = RELIABILITY_BINS
) -> list[ReliabilityBin]:
    """Top-label reliability: equal-width confidence bins (empty bins left out)."""
    probs = np.asarray(probs, dtype=np.float64)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(gold)
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = []
    for i in range(bins):
        low, high = edges[i], edges[i + 1]
        inside = (confidence >= low) & ((confidence < high) if i < bins - 1 else (confidence <= high))
        if inside.any():
            table.append(
                ReliabilityBin(
                    float(low),
                    float(high),
                    int(inside.sum()),
                    float(confidence[inside].mean()),
                    float(correct[inside].mean()),
                )
            )
    return table


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = RELIABILITY_BINS) -> float:
    """ECE: the count-weighted mean gap |accuracy - confidence| over the reliability bins."""
    table = reliability_table(probs, gold, bins)
    total = sum(b.count for b in table)
    if total == 0:
        return 0.0
    return sum(b.count * abs(b.accuracy - b.mean_confidence) for b in table) / total


def sampling_ece(
    confidences: np.ndarray, draws: int = 1000, seed: int = 0, bins: int = RELIABILITY_BINS
) -> tuple[float, float, float]:
    """ECE that a perfectly calibrated detector with these top probabilities would show on this
    many utterances, from sampling alone (each reading right with probability its confidence):
    5th, 50th and 95th percentile over `draws` draws. A measured ECE inside this range cannot be
    told apart from perfect calibration on a set this size."""
    confidences = np.asarray(confidences, dtype=np.float64)
    n = len(confidences)
    if n == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # The same bins as reliability_table: [low, high), the last one closed.
    index = np.clip(np.searchsorted(edges, confidences, side="right") - 1, 0, bins - 1)
    members = [index == b for b in range(bins)]
    values = []
    for _ in range(draws):
        correct = rng.random(n) < confidences
        gap = sum(abs(correct[m].mean() - confidences[m].mean()) * m.sum() for m in members if m.any())
        values.append(gap / n)
    low, mid, high = np.percentile(values, [5, 50, 95])
    return float(low), float(mid), float(high)
