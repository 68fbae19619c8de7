"""Forward filter over the debtor's hidden state (cooperative, confrontational, distressed, strategic).

One step per debtor utterance, done as a proper HMM filter (arXiv 2511.03370, Eq. 2-3):

    predict   b'(s')  = sum_s b(s) * T_c[s, s']             (c = the creditor's last emotion)
    correct   b''(s') ∝ b'(s') * L(s'),  L(s') = sum_e p_detector(e) * emission[s', e]

The authors' released code multiplies by `emission[c, d]`, a factor that is the same for every
state and so cancels in the normalisation: their belief depends only on the creditor's own
emotions. Here the observation is the debtor's emotion and the creditor's emotion is an input.

Soft evidence: the detector gives a distribution p(e | utterance), not a label. L(s) above is the
likelihood of the utterance under state s when the detector's output is read as virtual evidence
(Pearl 1988): P(utterance | s) = sum_e P(e | s) P(utterance | e), and P(utterance | e) is
proportional to p(e | utterance) / p(e); with a flat label prior the division is a constant and
drops out. A confident reading behaves like the hard label; a uniform reading leaves the
prediction unchanged (L is then the same for every state).

The creditor's emotion c shapes the transition (the paper lets the next state depend on the
creditor's expression but publishes one matrix): T_c[s, s'] ∝ T[s, s'] * g_c(s')^alpha, where
g_c(s') = sum_e response[c, e] * emission[s', e] is how well state s' explains the emotions
debtors show in response to c. alpha = 0 gives the plain matrix (eq.tracker.transition_tilt_alpha).

Pure numpy: no clocks, no files, no ROS. A step is a few 4x4 / 4x7 products (microseconds).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..config import EmotionModel, TrackerConfig
from .emotions import EMOTIONS, HIDDEN_STATES, emotion_index

N_STATES = len(HIDDEN_STATES)
N_EMOTIONS = len(EMOTIONS)

# Below this the likelihood (or a normalising sum) is treated as zero: the step falls back to the
# prediction instead of dividing by nothing.
_TINY = 1e-300


class CreditorConditionedDynamics:
    """The per-creditor-emotion matrices, precomputed once per model (not re-derived every turn).

    transitions[c]        T_c, (7, 4, 4)
    state_emotions[c]     T_c @ emission, (7, 4, 7): next debtor emotion from the current state
    response              (7, 7) P(debtor's next emotion | creditor emotion)
    """

    def __init__(self, model: EmotionModel, settings: TrackerConfig | None = None) -> None:
        settings = settings or TrackerConfig()
        self.settings = settings
        transition = np.asarray(model.transition, dtype=float)
        emission = np.asarray(model.emission, dtype=float)
        response = np.asarray(model.response, dtype=float)
        self.emission = emission
        self.response = response
        # g[c, s'] = sum_e response[c, e] * emission[s', e]
        fit = response @ emission.T  # (7, 4)
        tilt = np.power(np.maximum(fit, _TINY), settings.transition_tilt_alpha)
        tilted = transition[None, :, :] * tilt[:, None, :]  # (7, 4, 4)
        self.transitions = tilted / tilted.sum(axis=2, keepdims=True)
        self.state_emotions = self.transitions @ emission  # (7, 4, 7)
        self.response_weight = float(settings.response_weight)

    def predict_next_emotions(self, belief: np.ndarray) -> np.ndarray:
        """(7, 7): row c = P(debtor's next emotion | belief, creditor shows c).

        A convex mix, (1 - w) * belief @ T_c @ emission + w * response[c]: the first term is what
        the hidden state says the debtor will feel, the second how debtors react to c on average
        (the paper's response table). A mix, not a product, so that neither source can veto an
        emotion the other finds likely; w = eq.tracker.response_weight. The default w = 0 uses the
        response table only through the tilt of T_c (mixing it in again counts it twice; with the
        published matrices w >= 0.1 makes joy the best reply to every belief).
        """
        from_state = np.einsum("s,cse->ce", belief, self.state_emotions)
        w = self.response_weight
        return (1.0 - w) * from_state + w * self.response


def sanitize_probs(values: Sequence[float], length: int, what: str) -> np.ndarray:
    """Non-negative finite vector of the given length (NaN and negatives become 0); not normalised.

    A wrong length is a programming error (the records fix the label order), so it raises with the
    expected length named.
    """
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.shape != (length,):
        raise ValueError(f"{what}: expected {length} probabilities, got {array.shape[0]}")
    array = np.where(np.isfinite(array) & (array > 0.0), array, 0.0)
    return array


class HiddenStateTracker:
    """Belief over the debtor's hidden state, updated once per debtor utterance."""

    def __init__(self, model: EmotionModel, settings: TrackerConfig | None = None) -> None:
        self._model = model
        self._dynamics = CreditorConditionedDynamics(model, settings)
        initial = sanitize_probs(model.initial_belief, N_STATES, "initial_belief")
        total = initial.sum()
        self._initial = initial / total if total > _TINY else np.full(N_STATES, 1.0 / N_STATES)
        self._belief = self._initial.copy()
        self.steps = 0

    @classmethod
    def from_config(cls, eq_config: Any, model: EmotionModel | None = None) -> "HiddenStateTracker":
        """Tracker for an EQConfig; pass the eq policy's learned `policy.model` as model when learning."""
        return cls(model if model is not None else eq_config.model, eq_config.tracker)

    @property
    def model(self) -> EmotionModel:
        return self._model

    @property
    def settings(self) -> TrackerConfig:
        return self._dynamics.settings

    @property
    def belief(self) -> np.ndarray:
        """P(hidden state) in HIDDEN_STATES order (a copy)."""
        return self._belief.copy()

    @property
    def dominant_state(self) -> str:
        return HIDDEN_STATES[int(np.argmax(self._belief))]

    def reset(self) -> None:
        self._belief = self._initial.copy()
        self.steps = 0

    def update(self, emotion_probs: Sequence[float], creditor_emotion: str) -> np.ndarray:
        """One filter step: predict with T_c (c = the creditor's emotion the debtor replied to),
        correct with the detector's probabilities as soft evidence; returns the new belief.

        Evidence that is all zero, NaN, or impossible under every state leaves the prediction as
        the belief (no division by zero, no NaN).
        """
        c = emotion_index(creditor_emotion)
        probs = sanitize_probs(emotion_probs, N_EMOTIONS, "emotion_probs")
        predicted = self._belief @ self._dynamics.transitions[c]
        likelihood = self._dynamics.emission @ probs
        posterior = predicted * likelihood
        total = posterior.sum()
        if not np.isfinite(total) or total <= _TINY:
            posterior, total = predicted, predicted.sum()
        self._belief = posterior / total
        self.steps += 1
        return self._belief.copy()

    def predict_next_emotion(self, creditor_emotion: str) -> np.ndarray:
        """P(debtor's next emotion | belief, creditor shows creditor_emotion), 7 probs, EMOTIONS order."""
        c = emotion_index(creditor_emotion)
        return self._dynamics.predict_next_emotions(self._belief)[c].copy()

    def predict_next_emotions(self) -> np.ndarray:
        """(7, 7): row c = predict_next_emotion(EMOTIONS[c])."""
        return self._dynamics.predict_next_emotions(self._belief)

    # -- persistence (the SQLite resume of a restarted reasoning node) ------------------------

    def to_dict(self) -> dict[str, Any]:
        """Belief, step count, settings and the matrices in use: enough to restore exactly."""
        return {
            "belief": self._belief.tolist(),
            "steps": self.steps,
            "settings": dict(self.settings.__dict__),
            "model": self._model.to_dict(),
        }

    def load_dict(self, data: Mapping[str, Any]) -> "HiddenStateTracker":
        """Restore the belief and step count in place (keeping this tracker's model); returns self."""
        belief = sanitize_probs(data.get("belief", self._initial), N_STATES, "tracker belief")
        total = belief.sum()
        self._belief = belief / total if total > _TINY else self._initial.copy()
        self.steps = int(data.get("steps", 0))
        return self

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        model: EmotionModel | None = None,
        settings: TrackerConfig | None = None,
    ) -> "HiddenStateTracker":
        """A tracker as `to_dict` saved it; model / settings override the saved ones when given."""
        if model is None:
            model = EmotionModel.from_dict(data["model"])
        if settings is None and "settings" in data:
            settings = TrackerConfig(**data["settings"])
        return cls(model, settings).load_dict(data)
