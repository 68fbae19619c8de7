"""The creditor's emotion policy (arXiv 2511.03370, Sec. 3.2) and the baselines it is compared with.

"eq" combines two rules:

* Win-stay-lose-shift (WSLS) on the creditor payoff table pi(debtor emotion, creditor emotion):
  after the debtor's reply, the payoff of the emotion the creditor just showed is
  pi(debtor's reply, creditor's last emotion). Stay with that emotion when the payoff is at least
  eq.policy.lose_threshold, otherwise shift to the second-best creditor emotion against the
  debtor's reply (the best response is what a naive strategy would play; the paper shifts to the
  second one, Eq. 1).
* The HMM branch, when at least negative_min of the debtor's last negative_window dominant
  emotions are negative: pick c maximising sum_e P(next debtor emotion e | belief, c) * pi(e, c),
  with P from the tracker's creditor-conditioned dynamics (tracker.py).

Soft evidence in WSLS: the detector returns a distribution, so the payoff of creditor emotion c is
the expectation sum_e p(e) * pi(e, c) (one row per reading, the published row when the reading is
certain). A 0.35 anger / 0.33 neutral reading then no longer flips the decision the way the argmax
label would. The negative-emotion count uses the dominant label, as the paper counts emotions.

Ties are broken deterministically by EMOTIONS order (joy first): "second best" is the second
entry of the creditor emotions sorted by payoff descending, then by EMOTIONS order.

Learning from what each emotion achieves (eq only, eq.learning): the session reports the terms
of every debtor reply (observe_terms); the emotion the debtor replied to is scored by the share of
the offer gap the debtor closed (turn_reward, 1 on agreement). Why: the paper's +0.05 / -0.025
after a negotiation only touches the cells of emotions used, and with the published table WSLS
never leaves neutral (its neutral column is never below lose_threshold), so nothing else is ever
tried. The scores become a learned offset per creditor-emotion column of the payoff table
(learned_payoff_offsets), drawn once per negotiation from its posterior (Thompson sampling) so that
rarely tried emotions get tried; WSLS, the k-of-n switch and the HMM branch then run unchanged on
that table, and the opening is the best average column (neutral while nothing is learned).

Baselines (same interface): vanilla (always neutral), fixed-<emotion>, random (seeded), wsls
(no HMM branch), hmm (HMM branch every turn), released (a replica of the authors' released code,
defects included, see ReleasedPolicy).

Pure: no files, clocks or ROS. Learned matrices are saved and loaded by eq/learning.py, called by
the shell (node / CLI): `learned, note = load_learned_state(path, eq.model)`,
`make_policy("eq", eq, learned=learned)`, after each negotiation, when `policy.learns`,
`save_learned(path, policy.learned)`. Every policy also has to_dict / load_dict (alias
state_dict / load_state_dict) for its per-negotiation state, so a resumed session continues exactly.
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

import numpy as np

from ..config import EmotionModel, EQConfig
from .emotions import EMOTIONS, HIDDEN_STATES, NEGATIVE_EMOTIONS, emotion_index
from .learning import Episode, LearnedModel, learn_from_episode
from .records import EmotionReading, PolicyDecision
from .tracker import CreditorConditionedDynamics, sanitize_probs

N_EMOTIONS = len(EMOTIONS)
N_STATES = len(HIDDEN_STATES)
_NEGATIVE_MASK = np.array([e in NEGATIVE_EMOTIONS for e in EMOTIONS])
_NEUTRAL = EMOTIONS.index("neutral")

FIXED_PREFIX = "fixed-"
POLICY_NAMES: tuple[str, ...] = (
    ("eq", "vanilla") + tuple(FIXED_PREFIX + e for e in EMOTIONS) + ("random", "wsls", "hmm", "released")
)

# The authors' released code: every (debtor, creditor) count of a finished negotiation gets +0.03
# in the response table, rows renormalised; payoff += 0.05 * (+1 on success, -0.5 on failure).
# Constants of the replica, not tunables of this project.
RELEASED_COUNT_INCREMENT = 0.03
RELEASED_PAYOFF_RATE = 0.05
RELEASED_SUCCESS_REWARD = 1.0
RELEASED_FAILURE_REWARD = -0.5


def _reading_probs(reading: EmotionReading) -> np.ndarray:
    """The reading as a normalised vector; unreadable (all zero / NaN) becomes the low-confidence
    neutral reading that empty input gets everywhere else."""
    probs = sanitize_probs(reading.probs, N_EMOTIONS, "reading.probs")
    total = probs.sum()
    if total <= 0.0:
        return np.asarray(EmotionReading.neutral_low_confidence().probs, dtype=float)
    return probs / total


def _belief_vector(belief: Sequence[float]) -> np.ndarray:
    array = sanitize_probs(belief, N_STATES, "belief")
    total = array.sum()
    return array / total if total > 0.0 else np.full(N_STATES, 1.0 / N_STATES)


# Payoffs closer than this are a tie (sums of products of the published decimals differ in the
# last bits: 3.35 computed two ways is not always 3.35); ties go to the earlier emotion.
_TIE_TOLERANCE = 1e-9


def ranked_emotions(payoffs: np.ndarray) -> list[int]:
    """Creditor emotion indices by payoff, highest first; ties in EMOTIONS order."""
    rounded = np.round(np.asarray(payoffs, dtype=float) / _TIE_TOLERANCE) * _TIE_TOLERANCE
    return sorted(range(len(rounded)), key=lambda i: (-rounded[i], i))


def best_emotion(payoffs: np.ndarray) -> int:
    """Index of the highest payoff; near-ties (within _TIE_TOLERANCE) go to the earlier emotion."""
    values = np.asarray(payoffs, dtype=float)
    return int(np.flatnonzero(values >= values.max() - _TIE_TOLERANCE)[0])


def hmm_expected_payoffs(predicted: np.ndarray, creditor_payoff: np.ndarray) -> np.ndarray:
    """(7,): for each creditor emotion c, sum_e predicted[c, e] * pi(e, c)."""
    return np.einsum("ce,ec->c", predicted, creditor_payoff)


def turn_reward(
    previous_debtor_days: int | None, debtor_days: int | None, creditor_days: int | None, agreed: bool
) -> float | None:
    """What the creditor emotion the debtor just replied to achieved, in [-1, 1]; None when the
    reply cannot be scored.

    1.0 on agreement; otherwise the share of the gap between the debtor's previous offer and the
    creditor's standing offer that the debtor closed with this reply (a stall or a repeated number:
    0; a retraction: negative). The debtor's first number is its anchor, not a reply to anything,
    so it is not scored. A share rather than days, so that a 30-day and a 300-day debt weigh alike.
    """
    if agreed:
        return 1.0
    if previous_debtor_days is None or creditor_days is None:
        return None
    gap = previous_debtor_days - creditor_days
    if gap <= 0:
        return None
    if debtor_days is None:
        return 0.0
    return float(min(1.0, max(-1.0, (previous_debtor_days - debtor_days) / gap)))


def learned_payoff_offsets(
    reward_stats: np.ndarray, payoff_scale: float, prior_turns: float, rng: np.random.Generator | None = None
) -> np.ndarray:
    """(7,) learned offsets added to the payoff table's creditor-emotion columns.

    For each creditor emotion c, the mean per-turn reward (turn_reward) has a normal posterior
    whose prior mean is the mean over all emotions, worth prior_turns scored turns:
    mean_c = (prior_turns * overall + sum_c) / (prior_turns + n_c), sd_c = s / sqrt(prior_turns + n_c)
    (s: the pooled standard deviation of the rewards). The offset is payoff_scale * (value_c -
    overall): an emotion that moves debtors more than average earns a column bonus, one that moves
    them less a malus, in payoff units, so WSLS's lose_threshold and the HMM branch's expectation
    read learned and published payoffs alike. With no data every offset is 0: the published table.

    With rng (exploration), value_c is a draw from the posterior instead of its mean: Thompson
    sampling (Thompson 1933; Chapelle & Li 2011). An emotion tried rarely keeps a wide posterior and
    is sometimes drawn high, so it gets tried; the draws narrow as data comes in, and the policy
    settles on what works with this debtor population. Without it, the published table's neutral
    column (never below 2.0) keeps WSLS on neutral forever and the other emotions are never tried.
    """
    stats = np.asarray(reward_stats, dtype=float).reshape(N_EMOTIONS, 3)
    counts, sums, squares = stats[:, 0], stats[:, 1], stats[:, 2]
    total = counts.sum()
    if total <= 0.0:
        return np.zeros(N_EMOTIONS)
    overall = sums.sum() / total
    variance = max(squares.sum() / total - overall * overall, _MIN_REWARD_VARIANCE)
    weight = prior_turns + counts
    mean = (prior_turns * overall + sums) / np.maximum(weight, _TINY_WEIGHT)
    if rng is not None:
        mean = mean + rng.standard_normal(N_EMOTIONS) * np.sqrt(variance / np.maximum(weight, _TINY_WEIGHT))
    return payoff_scale * (mean - overall)


# Floors: a run of identical rewards must not give a zero-width posterior (no more exploration),
# and a zero prior weight with no data must not divide by zero.
_MIN_REWARD_VARIANCE = 1e-4
_TINY_WEIGHT = 1e-9


class EQPolicy:
    """WSLS + HMM branch, learning online in finish() when eq.learning.enabled.

    hmm_mode: "auto" (the paper's k-of-n switch), "never" (the wsls baseline) or "always" (hmm).
    """

    def __init__(
        self,
        eq_config: EQConfig,
        *,
        name: str = "eq",
        hmm_mode: str = "auto",
        learn: bool | None = None,
        learned: LearnedModel | None = None,
        seed: int | None = None,
    ) -> None:
        if hmm_mode not in ("auto", "never", "always"):
            raise ValueError(f"hmm_mode {hmm_mode!r} must be auto, never or always")
        self.name = name
        self._config = eq_config
        self._hmm_mode = hmm_mode
        self._learn = eq_config.learning.enabled if learn is None else learn
        self._configured_opening = emotion_index(eq_config.policy.opening_emotion)
        self._opening = self._configured_opening
        # Thompson draws of the learned payoff offsets (seeded: a benchmark run is reproducible).
        self._rng = np.random.default_rng(seed)
        self._set_learned(learned if learned is not None else LearnedModel.from_priors(eq_config.model))
        self._decision_payoff = self._payoff
        self._recent_negative: deque[bool] = deque(maxlen=eq_config.policy.negative_window)
        self._last_emotion = self._opening
        self._turns: list[tuple[str, tuple[float, ...]]] = []
        self._reset_turn_rewards()

    def _reset_turn_rewards(self) -> None:
        self._rewards: list[tuple[str, float]] = []
        self._previous_debtor_days: int | None = None
        self._replied_to = self._opening

    # -- the learned model ---------------------------------------------------------------------

    @property
    def model(self) -> EmotionModel:
        """The matrices the policy decides with (the priors, or what learning made of them).
        A session's tracker should be built from this model."""
        return self._learned.model

    @property
    def learned(self) -> LearnedModel:
        """Model + episode count + stored sequences, for eq.learning.save_learned."""
        return self._learned

    @property
    def learns(self) -> bool:
        """True for the learning eq policy: only then is `learned` worth saving (a wsls or hmm
        baseline saving its unchanged priors would overwrite what eq learned)."""
        return self._learn

    def _set_learned(self, learned: LearnedModel) -> None:
        self._learned = learned
        model = learned.model
        self._payoff = np.asarray(model.creditor_payoff, dtype=float)
        self._dynamics = CreditorConditionedDynamics(model, self._config.tracker)

    # -- CreditorPolicy -------------------------------------------------------------------------

    @property
    def decision_payoff(self) -> np.ndarray:
        """The payoff table this negotiation decides with: the (learned) table plus the learned
        per-emotion offsets drawn at start() (learned_payoff_offsets); the published table when
        learning is off or nothing has been scored yet."""
        return self._decision_payoff.copy()

    def _draw_decision_payoff(self) -> None:
        """Once per negotiation, so that one negotiation plays one consistent hypothesis (the
        debtor's treatment of us builds up over turns; flipping hypotheses every turn would
        blur what each emotion achieved)."""
        settings = self._config.learning
        stats = self._learned.reward_array
        if not self._learn or stats[:, 0].sum() <= 0.0:
            self._decision_payoff = self._payoff
            self._opening = self._configured_opening
            return
        offsets = learned_payoff_offsets(
            stats, settings.reward_payoff_scale, settings.reward_prior_turns,
            self._rng if settings.explore else None,
        )
        self._decision_payoff = self._payoff + offsets[None, :]
        # Open with the emotion of the best average column (the debtor's emotion is not known
        # yet, so each row counts alike). With no offsets this is neutral, the configured opening
        # of the published table; with learning it is the emotion that has moved debtors most.
        self._opening = best_emotion(self._decision_payoff.mean(axis=0))

    def start(self) -> PolicyDecision:
        self._recent_negative.clear()
        self._turns = []
        self._draw_decision_payoff()
        self._reset_turn_rewards()
        self._last_emotion = self._opening
        initial = tuple(float(x) for x in self.model.initial_belief)
        learned = self._opening != self._configured_opening or self._decision_payoff is not self._payoff
        return PolicyDecision(
            creditor_emotion=EMOTIONS[self._opening],
            branch="opening",
            belief=initial,
            expected_payoffs=tuple(float(x) for x in self._decision_payoff.mean(axis=0)),
            explanation=(
                f"opening with {EMOTIONS[self._opening]}, the best average learned payoff column"
                if learned else f"opening with the configured emotion {EMOTIONS[self._opening]}"
            ),
        )

    def observe_terms(self, debtor_offer_days: int | None, creditor_offer_days: int | None, agreed: bool) -> None:
        """Called by the session after each debtor reply with the reply's terms: scores what the
        creditor emotion the debtor replied to achieved (turn_reward), for learning in finish()."""
        if not self._learn:
            return
        reward = turn_reward(self._previous_debtor_days, debtor_offer_days, creditor_offer_days, bool(agreed))
        if reward is not None:
            self._rewards.append((EMOTIONS[self._replied_to], reward))
        if debtor_offer_days is not None:
            self._previous_debtor_days = int(debtor_offer_days)

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        probs = _reading_probs(reading)
        belief_vec = _belief_vector(belief)
        dominant = int(np.argmax(probs))
        last = self._last_emotion
        self._replied_to = last
        self._turns.append((EMOTIONS[last], tuple(float(p) for p in probs)))
        self._recent_negative.append(bool(_NEGATIVE_MASK[dominant]))

        # Expected payoff of each creditor emotion against this reading (the payoff row, softened).
        reply_payoffs = probs @ self._decision_payoff
        last_payoff = float(reply_payoffs[last])
        negatives = sum(self._recent_negative)
        policy = self._config.policy
        use_hmm = self._hmm_mode == "always" or (
            self._hmm_mode == "auto" and negatives >= policy.negative_min
        )

        if use_hmm:
            predicted = self._dynamics.predict_next_emotions(belief_vec)
            expected = hmm_expected_payoffs(predicted, self._decision_payoff)
            choice = best_emotion(expected)
            branch = "hmm"
            trigger = (
                "HMM branch every turn" if self._hmm_mode == "always"
                else f"{negatives} of the last {len(self._recent_negative)} debtor emotions negative"
            )
            explanation = (
                f"{trigger}; belief {_fmt_belief(belief_vec)}; best expected payoff "
                f"{expected[choice]:.2f} with {EMOTIONS[choice]}"
            )
            payoffs_out = expected
        elif last_payoff >= policy.lose_threshold:
            choice, branch = last, "wsls_stay"
            explanation = (
                f"debtor {EMOTIONS[dominant]} ({probs[dominant]:.2f}); our {EMOTIONS[last]} paid "
                f"{last_payoff:.2f} >= {policy.lose_threshold:g}: stay {EMOTIONS[last]}"
            )
            payoffs_out = reply_payoffs
        else:
            ranking = ranked_emotions(reply_payoffs)
            choice = ranking[1] if ranking[1] != last else ranking[0]
            branch = "wsls_shift"
            explanation = (
                f"debtor {EMOTIONS[dominant]} ({probs[dominant]:.2f}); our {EMOTIONS[last]} paid "
                f"{last_payoff:.2f} < {policy.lose_threshold:g}: shift to the second best, {EMOTIONS[choice]}"
            )
            payoffs_out = reply_payoffs

        self._last_emotion = choice
        return PolicyDecision(
            creditor_emotion=EMOTIONS[choice],
            branch=branch,
            belief=tuple(float(b) for b in belief_vec),
            expected_payoffs=tuple(float(x) for x in payoffs_out),
            last_payoff=last_payoff,
            explanation=explanation,
        )

    def to_dict(self) -> dict:
        """The per-negotiation state (for resuming a session); the learned model is saved
        separately with eq.learning.save_learned."""
        return {
            "name": self.name,
            "last_emotion": EMOTIONS[self._last_emotion],
            "recent_negative": list(self._recent_negative),
            "turns": [[c, list(p)] for c, p in self._turns],
            "opening": EMOTIONS[self._opening],
            "decision_payoff": self._decision_payoff.tolist(),
            "rewards": [[c, r] for c, r in self._rewards],
            "previous_debtor_days": self._previous_debtor_days,
            "replied_to": EMOTIONS[self._replied_to],
            "rng": self._rng.bit_generator.state,
        }

    def state_dict(self) -> dict:
        return self.to_dict()

    def load_state_dict(self, data: dict) -> "EQPolicy":
        return self.load_dict(data)

    def load_dict(self, data: dict) -> "EQPolicy":
        """Restore what to_dict saved, in place; returns self."""
        self._last_emotion = emotion_index(data.get("last_emotion", EMOTIONS[self._opening]))
        self._recent_negative.clear()
        self._recent_negative.extend(bool(x) for x in data.get("recent_negative", []))
        self._turns = [
            (EMOTIONS[emotion_index(c)], tuple(float(x) for x in p)) for c, p in data.get("turns", [])
        ]
        self._opening = emotion_index(data.get("opening", EMOTIONS[self._configured_opening]))
        decision = data.get("decision_payoff")
        if decision is not None:
            table = np.asarray(decision, dtype=float)
            if table.shape == self._payoff.shape and np.all(np.isfinite(table)):
                self._decision_payoff = table
        self._rewards = [(EMOTIONS[emotion_index(c)], float(r)) for c, r in data.get("rewards", [])]
        previous = data.get("previous_debtor_days")
        self._previous_debtor_days = None if previous is None else int(previous)
        self._replied_to = emotion_index(data.get("replied_to", EMOTIONS[self._last_emotion]))
        if "rng" in data:
            self._rng.bit_generator.state = data["rng"]
        return self

    def finish(self, success: bool) -> None:
        """Learn from the finished negotiation (eq only; baselines built from this class do not)."""
        if self._learn and self._turns:
            episode = Episode(turns=tuple(self._turns), success=bool(success), rewards=tuple(self._rewards))
            self._set_learned(
                learn_from_episode(self._learned, episode, self._config.model, self._config.learning)
            )
        self._turns = []
        self._rewards = []


class FixedPolicy:
    """Always the same creditor emotion ("vanilla" = neutral, "fixed-<emotion>")."""

    def __init__(self, emotion: str, name: str) -> None:
        self.name = name
        self._emotion = EMOTIONS[emotion_index(emotion)]

    def start(self) -> PolicyDecision:
        return PolicyDecision(self._emotion, "fixed", explanation=f"always {self._emotion}")

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        return PolicyDecision(self._emotion, "fixed", explanation=f"always {self._emotion}")

    def finish(self, success: bool) -> None:
        pass

    def to_dict(self) -> dict:
        return {"name": self.name}

    learns = False

    def state_dict(self) -> dict:
        return self.to_dict()

    def load_state_dict(self, data: dict) -> "FixedPolicy":
        return self.load_dict(data)

    def load_dict(self, data: dict) -> "FixedPolicy":
        return self


class RandomPolicy:
    """A uniformly random creditor emotion every turn (opening included), reproducible from the seed."""

    def __init__(self, seed: int | None, name: str = "random") -> None:
        self.name = name
        self._rng = np.random.default_rng(seed)

    def _draw(self) -> PolicyDecision:
        emotion = EMOTIONS[int(self._rng.integers(N_EMOTIONS))]
        return PolicyDecision(emotion, "random", explanation=f"random draw: {emotion}")

    def start(self) -> PolicyDecision:
        return self._draw()

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        return self._draw()

    def finish(self, success: bool) -> None:
        pass

    def to_dict(self) -> dict:
        return {"name": self.name, "rng": self._rng.bit_generator.state}

    learns = False

    def state_dict(self) -> dict:
        return self.to_dict()

    def load_state_dict(self, data: dict) -> "RandomPolicy":
        return self.load_dict(data)

    def load_dict(self, data: dict) -> "RandomPolicy":
        if "rng" in data:
            self._rng.bit_generator.state = data["rng"]
        return self


def released_belief_update(
    belief: np.ndarray, debtor_emotion: int, creditor_emotion: int, model: EmotionModel, response: np.ndarray
) -> np.ndarray:
    """The released code's filter step, defect included: the likelihood of state s is
    emission[s, c] * response[c, d]. The second factor is the same for every s and cancels in the
    normalisation, so the debtor's emotion d has no effect; the creditor's own emotion c is treated
    as the observation."""
    likelihood = model.emission[:, creditor_emotion] * response[creditor_emotion, debtor_emotion]
    predicted = model.transition.T @ belief
    unnormalised = likelihood * predicted
    total = unnormalised.sum()
    return unnormalised / total if total > 0 else np.full(N_STATES, 1.0 / N_STATES)


def released_hmm_scores(belief: np.ndarray, model: EmotionModel, response: np.ndarray) -> np.ndarray:
    """The released HMM branch: score(c) = sum_s' P(s') * max_e response[c, e] * emission[s', c].
    The predicted debtor response enters only as the row maximum, so the creditor emotion that the
    states "emit" most (joy, under the published matrices) wins for every history."""
    next_states = model.transition.T @ belief
    return (next_states @ model.emission) * response.max(axis=1)


class ReleasedPolicy:
    """Replica of the decision logic of the authors' released code, as the paper's baseline.

    Replicated, defects included:
    * its own belief, updated from the creditor's emotions only (released_belief_update); the
      belief passed in by the session is ignored;
    * the HMM branch of released_hmm_scores (joy under the published matrices);
    * its WSLS: play the best response to the debtor's current (dominant) emotion (first maximum);
      shift to the second best when the payoff of its own previous pick (not the realised payoff)
      was below the threshold, the second place taken from numpy's reversed argsort (stable for
      7 entries, so among ties the later emotion comes first). With the published table every
      row's maximum is >= 2, so this WSLS never shifts;
    * its learning after each negotiation: payoff[d_t, c_t] += 0.05 * (+1 | -0.5) over the
      zipped histories (d_t paired with the creditor emotion chosen after it, as the released code
      pairs them), and +0.03 on response[c_t, d_t] for t >= 1 with the row renormalised.
    Not replicated: the creditor-to-creditor emotion transition table, which it updates but never
    uses to decide.
    """

    def __init__(self, eq_config: EQConfig, name: str = "released") -> None:
        self.name = name
        self._config = eq_config
        model = eq_config.model
        self._model = model
        self._payoff = np.array(model.creditor_payoff, dtype=float)
        self._response = np.array(model.response, dtype=float)
        self._opening = emotion_index(eq_config.policy.opening_emotion)
        self.start()

    @property
    def released_model(self) -> EmotionModel:
        """The replica's tables as its own learning left them. Deliberately not called `model`:
        the shell saves `policy.model`-style state of the eq policy, never this one."""
        return EmotionModel(
            initial_belief=self._model.initial_belief.copy(),
            transition=self._model.transition.copy(),
            emission=self._model.emission.copy(),
            response=self._response.copy(),
            creditor_payoff=self._payoff.copy(),
            debtor_payoff=self._model.debtor_payoff.copy(),
        )

    @property
    def belief(self) -> np.ndarray:
        return self._belief.copy()

    def start(self) -> PolicyDecision:
        self._belief = np.array(self._model.initial_belief, dtype=float)
        self._current = self._opening
        self._previous_pick_payoff: float | None = None
        self._debtor_history: list[int] = []
        self._creditor_history: list[int] = []
        return PolicyDecision(
            EMOTIONS[self._opening], "opening", belief=tuple(self._belief.tolist()),
            explanation="released replica: opening emotion",
        )

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        d = int(np.argmax(_reading_probs(reading)))
        self._debtor_history.append(d)
        self._belief = released_belief_update(self._belief, d, self._current, self._model, self._response)
        window = self._debtor_history[-self._config.policy.negative_window:]
        negatives = int(sum(_NEGATIVE_MASK[i] for i in window))
        row = self._payoff[d]
        if negatives >= self._config.policy.negative_min:
            scores = released_hmm_scores(self._belief, self._model, self._response)
            choice, branch = int(np.argmax(scores)), "released_hmm"
            payoffs_out = scores
            explanation = f"released replica, HMM branch ({negatives} negative): {EMOTIONS[choice]}"
        else:
            choice = int(np.argmax(row))  # best response: first maximum
            branch = "released_wsls"
            if self._previous_pick_payoff is not None and self._previous_pick_payoff < self._config.policy.lose_threshold:
                choice = int(np.argsort(row, kind="stable")[::-1][1])
                branch = "released_wsls_shift"
            self._previous_pick_payoff = float(row[choice])
            payoffs_out = row
            explanation = f"released replica, WSLS against debtor {EMOTIONS[d]}: {EMOTIONS[choice]}"
        last_payoff = float(row[self._current])
        self._current = choice
        self._creditor_history.append(choice)
        return PolicyDecision(
            creditor_emotion=EMOTIONS[choice],
            branch=branch,
            belief=tuple(float(b) for b in self._belief),
            expected_payoffs=tuple(float(x) for x in payoffs_out),
            last_payoff=last_payoff,
            explanation=explanation,
        )

    def to_dict(self) -> dict:
        """Per-negotiation state and the replica's learned tables (it never persisted them itself)."""
        return {
            "name": self.name,
            "belief": self._belief.tolist(),
            "current": EMOTIONS[self._current],
            "previous_pick_payoff": self._previous_pick_payoff,
            "debtor_history": [EMOTIONS[i] for i in self._debtor_history],
            "creditor_history": [EMOTIONS[i] for i in self._creditor_history],
            "payoff": self._payoff.tolist(),
            "response": self._response.tolist(),
        }

    learns = False

    def state_dict(self) -> dict:
        return self.to_dict()

    def load_state_dict(self, data: dict) -> "ReleasedPolicy":
        return self.load_dict(data)

    def load_dict(self, data: dict) -> "ReleasedPolicy":
        self._belief = np.asarray(data.get("belief", self._model.initial_belief), dtype=float)
        self._current = emotion_index(data.get("current", EMOTIONS[self._opening]))
        previous = data.get("previous_pick_payoff")
        self._previous_pick_payoff = None if previous is None else float(previous)
        self._debtor_history = [emotion_index(e) for e in data.get("debtor_history", [])]
        self._creditor_history = [emotion_index(e) for e in data.get("creditor_history", [])]
        if "payoff" in data:
            self._payoff = np.asarray(data["payoff"], dtype=float)
        if "response" in data:
            self._response = np.asarray(data["response"], dtype=float)
        return self

    def finish(self, success: bool) -> None:
        reward = RELEASED_SUCCESS_REWARD if success else RELEASED_FAILURE_REWARD
        for d, c in zip(self._debtor_history, self._creditor_history):
            self._payoff[d, c] += RELEASED_PAYOFF_RATE * reward
        if len(self._debtor_history) > 1:
            for t in range(1, len(self._debtor_history)):
                c, d = self._creditor_history[t], self._debtor_history[t]
                self._response[c, d] += RELEASED_COUNT_INCREMENT
                self._response[c] /= self._response[c].sum()


def make_policy(
    name: str, eq_config: EQConfig, seed: int | None = None, *, learned: LearnedModel | None = None
):
    """A CreditorPolicy by name (POLICY_NAMES). `learned` (eq only) starts from saved learning."""
    key = (name or "").strip().lower()
    if key == "eq":
        return EQPolicy(eq_config, name="eq", hmm_mode="auto", learned=learned, seed=seed)
    if key == "wsls":
        return EQPolicy(eq_config, name="wsls", hmm_mode="never", learn=False)
    if key == "hmm":
        return EQPolicy(eq_config, name="hmm", hmm_mode="always", learn=False)
    if key == "vanilla":
        return FixedPolicy("neutral", name="vanilla")
    if key.startswith(FIXED_PREFIX) and key[len(FIXED_PREFIX):] in EMOTIONS:
        return FixedPolicy(key[len(FIXED_PREFIX):], name=key)
    if key == "random":
        return RandomPolicy(seed, name="random")
    if key == "released":
        return ReleasedPolicy(eq_config, name="released")
    raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICY_NAMES)}")


def _fmt_belief(belief: np.ndarray) -> str:
    return ", ".join(f"{s[:5]} {b:.2f}" for s, b in zip(HIDDEN_STATES, belief))
