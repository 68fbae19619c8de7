"""The creditor's emotion policy and the baselines it is compared with.

"eq" (EQPolicy), the product's policy, is the paper's rule with online learning (below).
"eq-context" (ContextualEQPolicy) learns which creditor emotion earns the most creditor utility
in which situation, online, on the debtors it meets (eq/bandit.py: linear Thompson sampling). It
is benchmarked beside eq and is not the product's policy: on the benchmark it did not win (README,
"Agent-to-agent benchmark"), so it has to be chosen (`policy: eq-context`).

* context (context_features): what the tracker and the detector observe in this negotiation so
  far: the mean detected debtor emotion distribution, the rates of the tactics heard (threats,
  hardship, promises, guilt-tripping, minimal answers; eq/tactics.py), the hidden-state belief
  (the HMM filter of eq/tracker.py) and how much of the offer gap the debtor has closed per reply;
* objective: the creditor utility of eq/utility.py (success x target / agreed days, failure 0),
  the number the benchmark reports, so the policy cannot buy agreements with days;
* two committed decisions per negotiation: the opening emotion, kept for the first
  eq.policy.context_replies replies, and at that reply the emotion for the rest of the
  negotiation, chosen on the context heard so far and kept (the debtor's response to an emotion
  builds up over turns, so what an emotion achieves shows only when it is kept);
* learning: after every debtor reply the context moves (the context decision reads it); after
  every negotiation both decisions are credited with the negotiation's utility less what the
  starting positions predict (UtilityBaseline: how far apart the debtor's first number and the
  creditor's target are explains most of a negotiation's utility and no emotion changes it;
  taking it out narrows every emotion's posterior);
* exploration: one draw of each bandit's weights per negotiation (Thompson sampling);
* literature prior: the paper's payoff table orders the emotions before anything is observed
  (eq.policy.literature_prior_utility), worth eq.policy.prior_negotiations negotiations per
  emotion; observations outweigh it after a few negotiations.

Where the paper's parts stand in eq-context: the HMM filter is context (its belief is a feature,
and it drives the concession schedule); the win-stay-lose-shift rule and the k-of-n switch do not
decide there: with the published payoff table WSLS never leaves neutral (the neutral column is
never below lose_threshold), and the HMM branch's expected payoff reads the paper's table, not
what works on the debtors met.

EQPolicy ("eq", "wsls", "hmm") is the paper's rule:

* Win-stay-lose-shift (WSLS) on the creditor payoff table pi(debtor emotion, creditor emotion):
  after the debtor's reply, the payoff of the emotion the creditor just showed is
  pi(debtor's reply, creditor's last emotion). Stay with that emotion when the payoff is at least
  eq.policy.lose_threshold, otherwise shift to the second-best creditor emotion against the
  debtor's reply (the paper shifts to the second one, Eq. 1).
* The HMM branch, when at least negative_min of the debtor's last negative_window dominant
  emotions are negative: pick c maximising sum_e P(next debtor emotion e | belief, c) * pi(e, c),
  with P from the tracker's creditor-conditioned dynamics (tracker.py).
* Soft evidence in WSLS: the payoff of creditor emotion c is sum_e p(e) * pi(e, c). Ties go to
  the earlier emotion in EMOTIONS order.
* Learning (eq.learning): per-turn scores of each emotion (turn_reward: the share of the offer
  gap the debtor closed, 1 on agreement) become Thompson-sampled column offsets of the payoff
  table (learned_payoff_offsets); the paper's +0.05 / -0.025 after a negotiation.

Baselines (same interface): vanilla (always neutral), fixed-<emotion>, random (seeded), wsls
(no HMM branch), hmm (HMM branch every turn), released (the authors' released code as it behaves,
AuthorsReleasedPolicy), released-float (the earlier replica with float tables and a stable sort,
ReleasedPolicy).

Every policy is a PolicyBase (eq/policy_base.py: the complete CreditorPolicy interface and its
defaults), so callers call every method: observe_utterance(text) before a debtor reply is decided
on (tactic cues), observe_terms(...) after it (the session calls it), observe_outcome(agreed_days,
target_days) before finish() when the caller knows the agreed terms exactly (the simulator does;
otherwise eq estimates them from observe_terms); a policy that needs none of them keeps the
defaults.

Pure: no files, clocks or ROS. Learned state is saved and loaded by eq/learning.py, called by the
shell (node / CLI): `learned, note = load_learned_state(path, eq.model)`,
`make_policy("eq", eq, learned=learned)`, after each negotiation, when `policy.learns`,
`save_learned(path, policy.learned)` (eq's bandit travels in LearnedModel.policy_state). Every
policy also has to_dict / load_dict for its per-negotiation state, so a resumed session continues
exactly.
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

import numpy as np

from ..config import EmotionModel, EQConfig
from .bandit import ContextPrior, LinearThompsonBandit, UtilityBaseline
from .emotions import EMOTIONS, HIDDEN_STATES, NEGATIVE_EMOTIONS, emotion_index
from .learning import Episode, LearnedModel, learn_from_episode
from .policy_base import PolicyBase
from .records import EmotionReading, PolicyDecision
from .tactics import TACTIC_NAMES, detect_tactics
from .tracker import CreditorConditionedDynamics, sanitize_probs
from .utility import creditor_utility

N_EMOTIONS = len(EMOTIONS)
N_STATES = len(HIDDEN_STATES)
_NEGATIVE_MASK = np.array([e in NEGATIVE_EMOTIONS for e in EMOTIONS])
_NEUTRAL = EMOTIONS.index("neutral")

FIXED_PREFIX = "fixed-"
POLICY_NAMES: tuple[str, ...] = (
    ("eq", "eq-context", "vanilla")
    + tuple(FIXED_PREFIX + e for e in EMOTIONS)
    + ("random", "wsls", "hmm", "released", "released-float")
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


class EQPolicy(PolicyBase):
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
            stats,
            settings.reward_payoff_scale,
            settings.reward_prior_turns,
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
                if learned
                else f"opening with the configured emotion {EMOTIONS[self._opening]}"
            ),
        )

    def observe_terms(
        self, debtor_offer_days: int | None, creditor_offer_days: int | None, agreed: bool
    ) -> None:
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
                "HMM branch every turn"
                if self._hmm_mode == "always"
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


class FixedPolicy(PolicyBase):
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

    def load_dict(self, data: dict) -> "FixedPolicy":
        return self


class RandomPolicy(PolicyBase):
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


class ReleasedPolicy(PolicyBase):
    """ "released-float": the earlier replica of the authors' released code, kept for comparison
    with AuthorsReleasedPolicy ("released"). It differs from their code as it behaves in three
    ways: it opens with the configured emotion (no made-up neutral first turn), its payoff table
    is float (their integer table truncates every update), and its shift sorts stably.

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
            EMOTIONS[self._opening],
            "opening",
            belief=tuple(self._belief.tolist()),
            explanation="released replica: opening emotion",
        )

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        d = int(np.argmax(_reading_probs(reading)))
        self._debtor_history.append(d)
        self._belief = released_belief_update(self._belief, d, self._current, self._model, self._response)
        window = self._debtor_history[-self._config.policy.negative_window :]
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
            if (
                self._previous_pick_payoff is not None
                and self._previous_pick_payoff < self._config.policy.lose_threshold
            ):
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


class AuthorsReleasedPolicy(PolicyBase):
    """The authors' released code (Yunbo-max/EQ-Negotiator at f0bf8a4) as it behaves, as the
    paper's baseline "released". Files named below are theirs.

    * The made-up first turn: their driver (llm/negotiator.py) calls select_emotion("Neutral")
      before the debtor has said anything, with the engine's current emotion "Neutral"; that call
      records the pair, updates the belief and picks by WSLS against a neutral debtor: the
      neutral row's first maximum, joy. start() does the same and opens with that pick; the
      made-up turn stays in the histories and is learned from like any other.
    * Each later turn (models/eq_negotiator.py select_emotion): record (debtor emotion, current
      creditor emotion) and update the belief (released_belief_update: the debtor's emotion
      cancels out); the HMM branch (released_hmm_scores, first maximum) when at least k of the
      last n recorded debtor emotions are negative, else WSLS (models/payoff_matrix.py): the
      row's first maximum; when the payoff of WSLS's own previous pick was below the threshold,
      np.argsort(row)[::-1][1] instead. numpy's default sort is not stable: which of tied
      emotions comes second depends on numpy's sort kernel (with numpy 2.4 on AVX-512, row
      4 3 2 1 3 2 3 gives surprise where a stable sort gives neutral); the call is made exactly
      as theirs, so the replica gets what their code gets on the same machine. The WSLS memory
      is touched only by WSLS turns.
    * Learning after each negotiation (update_after_negotiation): payoff[d_t, c_t] += 0.05 *
      (+1 success, -0.5 failure) for the zipped (recorded debtor emotion, emotion chosen after it)
      pairs, the made-up turn included. Their payoff table is an integer array
      (models/constants.py), so the float is truncated toward zero on assignment: a success
      changes nothing, each failing turn costs a cell 1, and 0 stays 0. Then, for t >= 1,
      response[c_t, d_t] += 0.03 with the row renormalised (hmm_model.update_parameters, called
      with the chosen emotions, so c_t is the emotion chosen after d_t).
    Not replicated: the creditor-to-creditor emotion transition table, updated but never used.
    A configured payoff table with fractions is truncated to integers as their array would hold it.
    """

    def __init__(self, eq_config: EQConfig, name: str = "released") -> None:
        self.name = name
        self._config = eq_config
        self._model = eq_config.model
        # Their PAYOFF_MATRIX_AGENT is np.array of Python ints: int64.
        self._payoff = np.trunc(np.asarray(self._model.creditor_payoff, dtype=float)).astype(np.int64)
        self._response = np.array(self._model.response, dtype=float)
        self.start()

    @property
    def payoff(self) -> np.ndarray:
        """The integer payoff table as its learning left it (a copy)."""
        return self._payoff.copy()

    @property
    def response(self) -> np.ndarray:
        return self._response.copy()

    @property
    def belief(self) -> np.ndarray:
        return self._belief.copy()

    def _select(self, debtor: int) -> tuple[int, str, np.ndarray]:
        """Their select_emotion(debtor emotion): returns (choice, branch, scores)."""
        self._debtor_history.append(debtor)
        self._belief = released_belief_update(
            self._belief, debtor, self._current, self._model, self._response
        )
        policy = self._config.policy
        window = self._debtor_history[-policy.negative_window :]
        negatives = int(sum(_NEGATIVE_MASK[i] for i in window))
        if negatives >= policy.negative_min:
            scores = released_hmm_scores(self._belief, self._model, self._response)
            choice, branch = int(np.argmax(scores)), "released_hmm"
        else:
            scores = self._payoff[debtor].astype(float)
            row = self._payoff[debtor]
            choice, branch = int(np.argmax(row)), "released_wsls"
            if self._previous_pick_payoff is not None and self._previous_pick_payoff < policy.lose_threshold:
                # Deliberately numpy's default kind (see the class docstring).
                choice, branch = int(np.argsort(row)[::-1][1]), "released_wsls_shift"
            self._previous_pick_payoff = float(row[choice])
        self._current = choice
        self._chosen.append(choice)
        return choice, branch, scores

    def _decision(self, choice: int, branch: str, scores: np.ndarray, what: str) -> PolicyDecision:
        return PolicyDecision(
            creditor_emotion=EMOTIONS[choice],
            branch=branch,
            belief=tuple(float(b) for b in self._belief),
            expected_payoffs=tuple(float(x) for x in scores),
            explanation=f"released (authors' code) {what}: {EMOTIONS[choice]}",
        )

    def start(self) -> PolicyDecision:
        self._belief = np.array(self._model.initial_belief, dtype=float)
        self._current = _NEUTRAL
        self._previous_pick_payoff: float | None = None
        self._debtor_history: list[int] = []
        self._chosen: list[int] = []
        choice, branch, scores = self._select(_NEUTRAL)  # the made-up neutral first turn
        return self._decision(choice, "opening", scores, "opening on a made-up neutral debtor turn")

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        debtor = int(np.argmax(_reading_probs(reading)))
        choice, branch, scores = self._select(debtor)
        return self._decision(choice, branch, scores, f"against debtor {EMOTIONS[debtor]}")

    def finish(self, success: bool) -> None:
        reward = RELEASED_SUCCESS_REWARD if success else RELEASED_FAILURE_REWARD
        for d, c in zip(self._debtor_history, self._chosen):
            # Integer array: numpy truncates the float result toward zero, as in their code.
            self._payoff[d, c] += RELEASED_PAYOFF_RATE * reward
        for t in range(1, len(self._debtor_history)):
            c, d = self._chosen[t], self._debtor_history[t]
            self._response[c, d] += RELEASED_COUNT_INCREMENT
            self._response[c] /= self._response[c].sum()

    learns = False

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "belief": self._belief.tolist(),
            "current": EMOTIONS[self._current],
            "previous_pick_payoff": self._previous_pick_payoff,
            "debtor_history": [EMOTIONS[i] for i in self._debtor_history],
            "chosen": [EMOTIONS[i] for i in self._chosen],
            "payoff": self._payoff.tolist(),
            "response": self._response.tolist(),
        }

    def load_dict(self, data: dict) -> "AuthorsReleasedPolicy":
        self._belief = np.asarray(data.get("belief", self._model.initial_belief), dtype=float)
        self._current = emotion_index(data.get("current", "neutral"))
        previous = data.get("previous_pick_payoff")
        self._previous_pick_payoff = None if previous is None else float(previous)
        self._debtor_history = [emotion_index(e) for e in data.get("debtor_history", [])]
        self._chosen = [emotion_index(e) for e in data.get("chosen", [])]
        if "payoff" in data:
            self._payoff = np.asarray(data["payoff"], dtype=np.int64)
        if "response" in data:
            self._response = np.asarray(data["response"], dtype=float)
        return self


# -- the eq policy: a contextual bandit over what the tracker and the detector observe ----------

CONTEXT_FEATURES: tuple[str, ...] = (
    ("intercept",)
    + tuple(f"emotion_{e}" for e in EMOTIONS)
    + tuple(f"tactic_{t}" for t in TACTIC_NAMES)
    + tuple(f"belief_{s}" for s in HIDDEN_STATES)
    + ("gap_closed",)
)
N_CONTEXT = len(CONTEXT_FEATURES)
# Covariates of the utility baseline (UtilityBaseline): known once the debtor named its first
# number, and not moved by the creditor's emotion: that first number is the debtor's anchor.
BASELINE_COVARIATES: tuple[str, ...] = (
    "intercept",
    "log_anchor_ratio",
    "log_anchor_ratio_squared",
    "log_target_days",
)
POLICY_STATE_FORMAT = "eq_negotiator.eq_policy/1"
_UNIFORM_EMOTION = 1.0 / N_EMOTIONS


def context_features(
    emotion_sum: np.ndarray,
    tactic_sum: np.ndarray,
    replies: int,
    belief: np.ndarray,
    initial_belief: np.ndarray,
    gap_sum: float,
    gap_count: int,
) -> np.ndarray:
    """(N_CONTEXT,) context vector, CONTEXT_FEATURES order. Every feature but the intercept is 0
    before the debtor has said anything (the opening is decided on the intercept alone):
    mean detected emotions minus uniform, tactic cue rates, belief minus the initial belief (the
    HMM filter's news), mean share of the offer gap the debtor closed per scored reply. Centred
    so that "nothing learned about this situation" is the origin, where the ridge prior sits."""
    x = np.zeros(N_CONTEXT)
    x[0] = 1.0
    if replies > 0:
        x[1 : 1 + N_EMOTIONS] = emotion_sum / replies - _UNIFORM_EMOTION
        x[1 + N_EMOTIONS : 1 + N_EMOTIONS + len(TACTIC_NAMES)] = tactic_sum / replies
    offset = 1 + N_EMOTIONS + len(TACTIC_NAMES)
    x[offset : offset + N_STATES] = belief - initial_belief
    if gap_count > 0:
        x[-1] = gap_sum / gap_count
    return x


def baseline_covariates(anchor_days: int | None, target_days: int | None) -> np.ndarray:
    """(BASELINE_COVARIATES,): how far apart the two sides start (log of the debtor's first
    number over the creditor's target) and the size of the target (log days). An unknown anchor
    or target gives 0 (the baseline's intercept alone)."""
    z = np.zeros(len(BASELINE_COVARIATES))
    z[0] = 1.0
    if target_days is not None and target_days > 0:
        z[3] = np.log(float(target_days))
        if anchor_days is not None and anchor_days > 0:
            ratio = np.log(float(anchor_days) / float(target_days))
            z[1], z[2] = ratio, ratio * ratio
    return z


def literature_offsets(creditor_payoff: np.ndarray, spread: float) -> np.ndarray:
    """(7,) the paper's payoff table as a prior on utility: each creditor emotion's column mean
    (the debtor's emotion not known), rescaled so the best and worst emotions are `spread` apart
    and the offsets average 0."""
    means = np.asarray(creditor_payoff, dtype=float).mean(axis=0)
    span = means.max() - means.min()
    if span <= 0 or spread <= 0:
        return np.zeros(N_EMOTIONS)
    scaled = spread * (means - means.min()) / span
    return scaled - scaled.mean()


class ContextualEQPolicy(PolicyBase):
    """ "eq-context": the contextual bandit; see the module docstring. Learns in finish() when
    eq.learning.enabled; `learned` carries both bandits (policy_state) and the tracker's matrices.

    Two committed decisions per negotiation, each with its own bandit and each credited with the
    negotiation's utility:
    * the opening emotion, shown until eq.policy.context_replies debtor replies have been heard
      (nothing is known about this debtor yet: a context-free bandit, intercept only);
    * at that reply, the emotion for the rest of the negotiation, from the contextual bandit on
      what was heard so far; then held.
    Why commit: the debtor's response to the creditor's emotion builds up over turns, so what an
    emotion achieves shows only when it is kept. Measured on the benchmark's simulator, a policy
    re-deciding on context at every reply mixed emotions within negotiations, credited each
    emotion with outcomes of mixtures, and never found the emotion that works when kept.
    """

    def __init__(
        self,
        eq_config: EQConfig,
        *,
        name: str = "eq-context",
        learn: bool | None = None,
        learned: LearnedModel | None = None,
        seed: int | None = None,
    ) -> None:
        self.name = name
        self._config = eq_config
        self._learn = eq_config.learning.enabled if learn is None else learn
        self._rng = np.random.default_rng(seed)
        settings = eq_config.policy
        self._context_replies = max(1, int(settings.context_replies))
        offsets = tuple(
            literature_offsets(eq_config.model.creditor_payoff, settings.literature_prior_utility)
        )
        weight = max(float(settings.prior_negotiations), 1e-6)
        self._opening_prior = ContextPrior(weight=weight, offsets=offsets)
        self._context_prior = ContextPrior(
            weight=weight,
            offsets=offsets,
            feature_weight_scale=max(float(settings.context_prior_scale), 1e-6),
        )
        self._exploration = float(settings.exploration_scale) if eq_config.learning.explore else 0.0
        self.load_note = ""
        self.last_utility: float | None = None  # of the latest finished negotiation
        self._set_learned(learned if learned is not None else LearnedModel.from_priors(eq_config.model))
        self._initial_belief = _belief_vector(self._learned.model.initial_belief)
        self._opening_weights = self._opening_bandit.mean_weights(self._opening_prior)
        self._context_weights = self._context_bandit.mean_weights(self._context_prior)
        self._reset_negotiation()

    def _set_learned(self, learned: LearnedModel) -> None:
        self._learned = learned
        self._opening_bandit = LinearThompsonBandit(N_EMOTIONS, 1)
        self._context_bandit = LinearThompsonBandit(N_EMOTIONS, N_CONTEXT)
        self._baseline = UtilityBaseline(len(BASELINE_COVARIATES))
        state = learned.policy_state
        if state is not None:
            try:
                if state.get("format") != POLICY_STATE_FORMAT:
                    raise ValueError(f"expected format {POLICY_STATE_FORMAT!r}")
                opening = LinearThompsonBandit.from_dict(state.get("opening"), N_EMOTIONS, 1)
                context = LinearThompsonBandit.from_dict(state.get("context"), N_EMOTIONS, N_CONTEXT)
                baseline = UtilityBaseline.from_dict(state.get("baseline"), len(BASELINE_COVARIATES))
            except (ValueError, AttributeError) as error:
                self.load_note = (
                    f"learned policy state ignored ({error}); the eq policy learns again from scratch"
                )
            else:
                self._opening_bandit, self._context_bandit, self._baseline = opening, context, baseline

    def _reset_negotiation(self) -> None:
        self._emotion_sum = np.zeros(N_EMOTIONS)
        self._tactic_sum = np.zeros(len(TACTIC_NAMES))
        self._pending_tactics: tuple[float, ...] | None = None
        self._replies = 0
        self._gap_sum = 0.0
        self._gap_count = 0
        self._previous_debtor_days: int | None = None
        self._anchor_days: int | None = None
        self._target_days: int | None = None
        self._agreed_days: int | None = None
        self._exact_outcome: tuple[float, float] | None = None
        self._opening_choice: int | None = None
        self._context_choice: tuple[int, tuple[float, ...]] | None = None
        self._turns: list[tuple[str, tuple[float, ...]]] = []
        self._last = emotion_index(self._config.policy.opening_emotion)

    # -- the learned state ---------------------------------------------------------------------

    @property
    def model(self) -> EmotionModel:
        """The matrices the session's tracker should filter with (learned from the priors)."""
        return self._learned.model

    @property
    def learned(self) -> LearnedModel:
        """The tracker's matrices and both bandits, for eq.learning.save_learned."""
        return LearnedModel(
            model=self._learned.model,
            episodes=self._learned.episodes,
            sequences=self._learned.sequences,
            reward_stats=self._learned.reward_stats,
            policy_state={
                "format": POLICY_STATE_FORMAT,
                "opening": self._opening_bandit.to_dict(),
                "context": self._context_bandit.to_dict(),
                "baseline": self._baseline.to_dict(),
            },
        )

    @property
    def learns(self) -> bool:
        return self._learn

    @property
    def bandit(self) -> LinearThompsonBandit:
        """The contextual bandit (the emotion held after the first replies)."""
        return self._context_bandit

    @property
    def opening_bandit(self) -> LinearThompsonBandit:
        return self._opening_bandit

    # -- deciding ------------------------------------------------------------------------------

    def _context(self, belief: np.ndarray) -> np.ndarray:
        return context_features(
            self._emotion_sum,
            self._tactic_sum,
            self._replies,
            belief,
            self._initial_belief,
            self._gap_sum,
            self._gap_count,
        )

    def _draw(self, bandit: LinearThompsonBandit, prior: ContextPrior) -> np.ndarray:
        if self._learn and self._exploration > 0:
            return bandit.sample_weights(prior, self._rng, self._exploration)
        return bandit.mean_weights(prior)

    def _decision(
        self, choice: int, branch: str, belief: np.ndarray, values: np.ndarray, why: str
    ) -> PolicyDecision:
        self._last = choice
        return PolicyDecision(
            creditor_emotion=EMOTIONS[choice],
            branch=branch,
            belief=tuple(float(b) for b in belief),
            expected_payoffs=tuple(float(v) for v in values),
            explanation=f"{why}; expected creditor utility {values[choice]:.3f} with {EMOTIONS[choice]}",
        )

    def start(self) -> PolicyDecision:
        self._reset_negotiation()
        # One draw per negotiation and bandit (Thompson sampling); the posterior mean when not exploring.
        self._opening_weights = self._draw(self._opening_bandit, self._opening_prior)
        self._context_weights = self._draw(self._context_bandit, self._context_prior)
        values = self._opening_weights[:, 0]
        choice = best_emotion(values)
        self._opening_choice = choice
        return self._decision(
            choice,
            "opening",
            self._initial_belief,
            values,
            f"opening: nothing heard yet; shown for the first {self._context_replies} replies "
            f"({self._opening_bandit.counts.sum():.0f} negotiations learned)",
        )

    def observe_utterance(self, text: str) -> None:
        """The debtor's words of the reply about to be decided on (tactic cues). Calling it twice
        for the same reply is harmless: the latest call counts."""
        self._pending_tactics = detect_tactics(text).as_tuple()

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        probs = _reading_probs(reading)
        belief_vec = _belief_vector(belief)
        self._turns.append((EMOTIONS[self._last], tuple(float(p) for p in probs)))
        self._replies += 1
        self._emotion_sum += probs
        if self._pending_tactics is not None:
            self._tactic_sum += np.asarray(self._pending_tactics)
            self._pending_tactics = None
        x = self._context(belief_vec)
        values = self._context_weights @ x
        dominant = int(np.argmax(probs))
        heard = f"debtor {EMOTIONS[dominant]} ({probs[dominant]:.2f}), reply {self._replies}"
        if self._replies < self._context_replies:
            return self._decision(
                self._last, "opening_hold", belief_vec, values, f"{heard}; keeping the opening"
            )
        if self._replies == self._context_replies:
            choice = best_emotion(values)
            self._context_choice = (choice, tuple(float(v) for v in x))
            return self._decision(
                choice,
                "context",
                belief_vec,
                values,
                f"{heard}; chosen for the rest of the negotiation from what was heard",
            )
        return self._decision(self._last, "context_hold", belief_vec, values, f"{heard}; keeping it")

    def observe_terms(
        self, debtor_offer_days: int | None, creditor_offer_days: int | None, agreed: bool
    ) -> None:
        """After each debtor reply (the session calls it): how far the debtor moved (a context
        feature) and, for the utility, the target (the standing offer before the first reply is
        the opening, the target) and an estimate of the agreed days."""
        if self._target_days is None and creditor_offer_days is not None:
            self._target_days = int(creditor_offer_days)
        reward = turn_reward(self._previous_debtor_days, debtor_offer_days, creditor_offer_days, bool(agreed))
        if reward is not None and not agreed:
            self._gap_sum += reward
            self._gap_count += 1
        if agreed:
            # Agreement is within offer.agreement_gap_days of both offers: either number is the
            # agreed timeline to within those days.
            known = debtor_offer_days if debtor_offer_days is not None else creditor_offer_days
            self._agreed_days = None if known is None else int(known)
        if debtor_offer_days is not None:
            if self._anchor_days is None:
                self._anchor_days = int(debtor_offer_days)
            self._previous_debtor_days = int(debtor_offer_days)

    def observe_outcome(self, agreed_days: float | None, target_days: float | None) -> None:
        """The exact agreed and target days, when the caller knows them (the simulator)."""
        if agreed_days is not None and target_days is not None:
            self._exact_outcome = (float(agreed_days), float(target_days))

    def finish(self, success: bool) -> None:
        """Credit both decisions with the negotiation's utility. The context decision counts only
        when a reply came after it (otherwise it answered the reply that ended the negotiation
        and shaped nothing)."""
        if self._learn and self._opening_choice is not None:
            if self._exact_outcome is not None:
                agreed, target = self._exact_outcome
            else:
                agreed, target = self._agreed_days, self._target_days
            utility = creditor_utility(bool(success), agreed, target)
            self.last_utility = utility
            # The bandits learn what the emotion added to what the starting positions predict.
            # Covariates from what was seen during the negotiation only (the same whatever the
            # outcome; the exact terms come only with an agreement and would leak it).
            z = baseline_covariates(self._anchor_days, self._target_days)
            residual = utility - self._baseline.predict(z)
            self._baseline.update(z, utility)
            self._opening_bandit.update(self._opening_choice, [1.0], residual)
            self._opening_bandit.observe_outcome(residual)
            if self._context_choice is not None and self._replies > self._context_replies:
                choice, x = self._context_choice
                self._context_bandit.update(choice, x, residual)
            self._context_bandit.observe_outcome(residual)
            if self._turns:
                episode = Episode(turns=tuple(self._turns), success=bool(success))
                self._learned = learn_from_episode(
                    self._learned, episode, self._config.model, self._config.learning
                )
        self._reset_negotiation()

    # -- per-negotiation state (a resumed session continues exactly) -----------------------------

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "opening_weights": self._opening_weights.tolist(),
            "context_weights": self._context_weights.tolist(),
            "emotion_sum": self._emotion_sum.tolist(),
            "tactic_sum": self._tactic_sum.tolist(),
            "pending_tactics": list(self._pending_tactics) if self._pending_tactics is not None else None,
            "replies": self._replies,
            "gap": [self._gap_sum, self._gap_count],
            "previous_debtor_days": self._previous_debtor_days,
            "anchor_days": self._anchor_days,
            "target_days": self._target_days,
            "agreed_days": self._agreed_days,
            "opening_choice": None if self._opening_choice is None else EMOTIONS[self._opening_choice],
            "context_choice": None
            if self._context_choice is None
            else [EMOTIONS[self._context_choice[0]], list(self._context_choice[1])],
            "turns": [[c, list(p)] for c, p in self._turns],
            "last": EMOTIONS[self._last],
            "rng": self._rng.bit_generator.state,
        }

    def load_dict(self, data: dict) -> "ContextualEQPolicy":
        """Restore what to_dict saved, in place; returns self (bad weights keep the current ones)."""
        for key, shape in (
            ("opening_weights", (N_EMOTIONS, 1)),
            ("context_weights", (N_EMOTIONS, N_CONTEXT)),
        ):
            weights = np.asarray(data.get(key, getattr(self, "_" + key)), dtype=float)
            if weights.shape == shape and np.all(np.isfinite(weights)):
                setattr(self, "_" + key, weights)
        self._emotion_sum = np.asarray(data.get("emotion_sum", np.zeros(N_EMOTIONS)), dtype=float)
        self._tactic_sum = np.asarray(data.get("tactic_sum", np.zeros(len(TACTIC_NAMES))), dtype=float)
        pending = data.get("pending_tactics")
        self._pending_tactics = None if pending is None else tuple(float(v) for v in pending)
        self._replies = int(data.get("replies", 0))
        gap = data.get("gap", [0.0, 0])
        self._gap_sum, self._gap_count = float(gap[0]), int(gap[1])
        for key in ("previous_debtor_days", "anchor_days", "target_days", "agreed_days"):
            value = data.get(key)
            setattr(self, "_" + key, None if value is None else int(value))
        opening = data.get("opening_choice")
        self._opening_choice = None if opening is None else emotion_index(opening)
        context = data.get("context_choice")
        self._context_choice = (
            None if context is None else (emotion_index(context[0]), tuple(float(v) for v in context[1]))
        )
        self._turns = [
            (EMOTIONS[emotion_index(c)], tuple(float(v) for v in p)) for c, p in data.get("turns", [])
        ]
        self._last = emotion_index(data.get("last", EMOTIONS[self._last]))
        if "rng" in data:
            self._rng.bit_generator.state = data["rng"]
        return self


def make_policy(
    name: str, eq_config: EQConfig, seed: int | None = None, *, learned: LearnedModel | None = None
):
    """A CreditorPolicy by name (POLICY_NAMES). `learned` (eq only) starts from saved learning."""
    key = (name or "").strip().lower()
    if key == "eq":
        return EQPolicy(eq_config, name="eq", hmm_mode="auto", learned=learned, seed=seed)
    if key == "eq-context":
        return ContextualEQPolicy(eq_config, name="eq-context", learned=learned, seed=seed)
    if key == "wsls":
        return EQPolicy(eq_config, name="wsls", hmm_mode="never", learn=False)
    if key == "hmm":
        return EQPolicy(eq_config, name="hmm", hmm_mode="always", learn=False)
    if key == "vanilla":
        return FixedPolicy("neutral", name="vanilla")
    if key.startswith(FIXED_PREFIX) and key[len(FIXED_PREFIX) :] in EMOTIONS:
        return FixedPolicy(key[len(FIXED_PREFIX) :], name=key)
    if key == "random":
        return RandomPolicy(seed, name="random")
    if key == "released":
        return AuthorsReleasedPolicy(eq_config, name="released")
    if key == "released-float":
        return ReleasedPolicy(eq_config, name="released-float")
    raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICY_NAMES)}")


def _fmt_belief(belief: np.ndarray) -> str:
    return ", ".join(f"{s[:5]} {b:.2f}" for s, b in zip(HIDDEN_STATES, belief))
