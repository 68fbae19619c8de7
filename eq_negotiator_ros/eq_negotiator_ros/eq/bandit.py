"""Contextual bandit of the eq policy: which creditor emotion earns the most utility in which
situation, learned online with linear Thompson sampling (Agrawal & Goyal 2013, "Thompson sampling
for contextual bandits with linear payoffs", ICML; Chapelle & Li 2011).

Per creditor emotion a, the expected utility in context x is linear, E[U | x, a] = theta_a . x,
with a Gaussian prior theta_a ~ N(mu_a, (sigma^2 / prior_weight) I) and Bayesian linear regression
on what was observed:

    A_a = prior_weight * I + sum_i w_i x_i x_i^T        b_a = prior_weight * mu_a + sum_i w_i y_i x_i
    theta_a | data ~ N(A_a^-1 b_a, sigma^2 A_a^-1)

The prior mean mu_a is the pooled mean utility of everything observed so far on the intercept
(an emotion never tried is assumed average, neither better nor worse), plus a small literature
offset per emotion (the paper's payoff table, see ContextPrior); every other weight starts at 0.
prior_weight is counted in negotiations, so after a few negotiations with an emotion the data
outweighs the prior. sigma^2 is the variance of the utilities observed (pooled), so the draws
are as wide as the outcomes are noisy.

Only the sufficient statistics of the data are stored (X^T W X, X^T W y per emotion and the
pooled utility moments): they are small, exact to persist, and the prior is applied when a
decision is drawn, so changing the prior settings never needs the raw history.

Pure numpy: no files, clocks or ROS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

BANDIT_FORMAT = "eq_negotiator.context_bandit/1"
# Variance floor: identical utilities so far must not give zero-width draws (no exploration).
MIN_NOISE_VARIANCE = 1e-3
# Before any utility is observed: the variance of a fair coin between 0 and 1.
DEFAULT_NOISE_VARIANCE = 0.25


@dataclass(frozen=True)
class ContextPrior:
    """Prior of the bandit: weight in negotiations and the literature's offset per action."""

    weight: float  # prior_weight above (> 0), of the intercept
    offsets: tuple[float, ...]  # per action, added to the intercept's prior mean
    # Prior weight of every other feature, relative to the intercept's: a context feature should
    # change a decision only once the data shows it matters, not by a wide random draw.
    feature_weight_scale: float = 1.0


class LinearThompsonBandit:
    """Bayesian linear regression per action with Thompson draws (see the module docstring)."""

    def __init__(self, n_actions: int, dim: int) -> None:
        if n_actions < 1 or dim < 1:
            raise ValueError("a bandit needs at least one action and one feature")
        self.n_actions = n_actions
        self.dim = dim
        self._xx = np.zeros((n_actions, dim, dim))
        self._xy = np.zeros((n_actions, dim))
        self._counts = np.zeros(n_actions)  # total weight per action
        # Pooled utility moments: total weight, sum, sum of squares.
        self._moments = np.zeros(3)

    # -- learning ------------------------------------------------------------------------------

    def update(self, action: int, x: Sequence[float], y: float, weight: float = 1.0) -> None:
        """One observation: in context x, action earned utility y; weight = its share of one
        negotiation (a negotiation's decisions share one outcome, so they share one unit)."""
        vector = np.asarray(x, dtype=float)
        if vector.shape != (self.dim,) or not np.all(np.isfinite(vector)):
            raise ValueError(f"context must be {self.dim} finite numbers")
        if not np.isfinite(y) or weight <= 0 or not np.isfinite(weight):
            return
        self._xx[action] += weight * np.outer(vector, vector)
        self._xy[action] += weight * y * vector
        self._counts[action] += weight

    def observe_outcome(self, y: float, weight: float = 1.0) -> None:
        """The pooled utility moments (one per negotiation): the prior mean and the noise level."""
        if np.isfinite(y) and weight > 0:
            self._moments += (weight, weight * y, weight * y * y)

    # -- deciding ------------------------------------------------------------------------------

    @property
    def mean_utility(self) -> float:
        total, sums, _ = self._moments
        return float(sums / total) if total > 0 else 0.0

    @property
    def noise_variance(self) -> float:
        total, sums, squares = self._moments
        if total < 2:
            return DEFAULT_NOISE_VARIANCE
        mean = sums / total
        return float(max(squares / total - mean * mean, MIN_NOISE_VARIANCE))

    @property
    def counts(self) -> np.ndarray:
        return self._counts.copy()

    def _posterior(self, prior: ContextPrior) -> tuple[np.ndarray, np.ndarray]:
        """(means (n_actions, dim), precision matrices (n_actions, dim, dim))."""
        weights = np.full(self.dim, float(prior.weight) * float(prior.feature_weight_scale))
        weights[0] = float(prior.weight)
        precision = np.diag(weights)[None, :, :] + self._xx
        prior_mean = np.zeros((self.n_actions, self.dim))
        prior_mean[:, 0] = self.mean_utility + np.asarray(prior.offsets, dtype=float)
        rhs = weights[None, :] * prior_mean + self._xy
        means = np.linalg.solve(precision, rhs[:, :, None])[:, :, 0]
        return means, precision

    def mean_weights(self, prior: ContextPrior) -> np.ndarray:
        return self._posterior(prior)[0]

    def sample_weights(self, prior: ContextPrior, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
        """One draw of every action's weights from the posterior (scale 0: the means)."""
        means, precision = self._posterior(prior)
        if scale <= 0:
            return means
        draws = np.empty_like(means)
        variance = self.noise_variance * scale * scale
        for action in range(self.n_actions):
            # theta = mean + L^-T z with precision = L L^T has covariance precision^-1.
            lower = np.linalg.cholesky(precision[action])
            z = rng.standard_normal(self.dim)
            draws[action] = means[action] + np.sqrt(variance) * np.linalg.solve(lower.T, z)
        return draws

    # -- persistence ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": BANDIT_FORMAT,
            "n_actions": self.n_actions,
            "dim": self.dim,
            "xx": self._xx.tolist(),
            "xy": self._xy.tolist(),
            "counts": self._counts.tolist(),
            "moments": self._moments.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], n_actions: int, dim: int) -> "LinearThompsonBandit":
        """Parse and validate; raises ValueError saying what is wrong (e.g. a file saved with
        another feature set: its statistics cannot be reused and learning starts again)."""
        if not isinstance(data, Mapping) or data.get("format") != BANDIT_FORMAT:
            raise ValueError(f"not a context-bandit state (expected format {BANDIT_FORMAT!r})")
        if data.get("n_actions") != n_actions or data.get("dim") != dim:
            raise ValueError(
                f"context-bandit state has {data.get('n_actions')} actions x {data.get('dim')} features, "
                f"this policy uses {n_actions} x {dim}"
            )
        bandit = cls(n_actions, dim)
        shapes = {
            "xx": (n_actions, dim, dim),
            "xy": (n_actions, dim),
            "counts": (n_actions,),
            "moments": (3,),
        }
        for key, shape in shapes.items():
            try:
                array = np.asarray(data[key], dtype=float)
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"context-bandit state: {key} missing or not numbers") from None
            if array.shape != shape or not np.all(np.isfinite(array)):
                raise ValueError(f"context-bandit state: {key} must be finite numbers of shape {shape}")
            setattr(bandit, "_" + key, array)
        if np.any(bandit._counts < 0) or bandit._moments[0] < 0:
            raise ValueError("context-bandit state: counts must not be negative")
        return bandit


BASELINE_FORMAT = "eq_negotiator.utility_baseline/1"


class UtilityBaseline:
    """Pooled ridge regression of the utility on covariates no creditor emotion can change (how
    far apart the two sides start, the size of the creditor's target), over every negotiation
    whatever emotion was shown.

    The bandits then learn from the residual U - baseline(z) (regression adjustment of a
    randomised comparison; e.g. Lin 2013, "Agnostic notes on regression adjustments to
    experimental data", Annals of Applied Statistics 7(1)): most of a negotiation's utility is
    decided by how far apart the parties start, not by the creditor's emotion, and taking that
    part out narrows every emotion's posterior for the same number of negotiations. The
    covariates must not depend on the emotion chosen, or the adjustment would hide its effect.
    The residual is computed before the negotiation is added (prequential), so it is an honest
    out-of-sample error.
    """

    def __init__(self, dim: int, ridge: float = 1.0) -> None:
        self.dim = dim
        self.ridge = float(ridge)
        self._zz = np.zeros((dim, dim))
        self._zy = np.zeros(dim)

    def predict(self, z: Sequence[float]) -> float:
        vector = np.asarray(z, dtype=float)
        weights = np.linalg.solve(self.ridge * np.eye(self.dim) + self._zz, self._zy)
        return float(weights @ vector)

    def update(self, z: Sequence[float], y: float) -> None:
        vector = np.asarray(z, dtype=float)
        if vector.shape != (self.dim,) or not np.all(np.isfinite(vector)) or not np.isfinite(y):
            return
        self._zz += np.outer(vector, vector)
        self._zy += y * vector

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": BASELINE_FORMAT,
            "dim": self.dim,
            "ridge": self.ridge,
            "zz": self._zz.tolist(),
            "zy": self._zy.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], dim: int) -> "UtilityBaseline":
        if not isinstance(data, Mapping) or data.get("format") != BASELINE_FORMAT or data.get("dim") != dim:
            raise ValueError(f"not a utility baseline of {dim} covariates (format {BASELINE_FORMAT!r})")
        try:
            zz, zy = np.asarray(data["zz"], dtype=float), np.asarray(data["zy"], dtype=float)
            baseline = cls(dim, ridge=float(data.get("ridge", 1.0)))
        except (KeyError, TypeError, ValueError):
            raise ValueError("utility baseline: zz / zy / ridge missing or not numbers") from None
        if not (np.isfinite(baseline.ridge) and baseline.ridge > 0):
            raise ValueError("utility baseline: ridge must be a positive number")
        if (
            zz.shape != (dim, dim)
            or zy.shape != (dim,)
            or not (np.all(np.isfinite(zz)) and np.all(np.isfinite(zy)))
        ):
            raise ValueError(f"utility baseline: zz must be {dim}x{dim} and zy {dim} finite numbers")
        baseline._zz, baseline._zy = zz, zy
        return baseline
