"""Records exchanged between the parts of the core: frozen, JSON-serialisable, no behaviour beyond
small derived properties. Everything that crosses a module (or a ROS message) is one of these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Protocol

from .emotions import EMOTIONS, HIDDEN_STATES, valence_arousal


@dataclass(frozen=True)
class ProsodyFeatures:
    """Acoustic features of one speech segment (see speech/prosody.py)."""

    energy_dbfs: float  # RMS energy, 0 = full scale, about -60 = near silence
    pitch_hz: float  # median F0 of voiced frames, 0 when unvoiced
    pitch_variability_semitones: float  # std of F0 in semitones
    speaking_rate_wps: float  # words per second
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EmotionReading:
    """The detector's reading of one utterance: a probability per label in EMOTIONS order."""

    probs: tuple[float, ...]
    source: str  # "trained", "llm", "trained+prosody", "fallback", ...

    def __post_init__(self) -> None:
        if len(self.probs) != len(EMOTIONS):
            raise ValueError(f"EmotionReading needs {len(EMOTIONS)} probabilities, got {len(self.probs)}")

    @property
    def dominant(self) -> str:
        return EMOTIONS[max(range(len(EMOTIONS)), key=lambda i: self.probs[i])]

    @property
    def confidence(self) -> float:
        return max(self.probs)

    @property
    def valence_arousal(self) -> tuple[float, float]:
        return valence_arousal(self.probs)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(EMOTIONS, self.probs))

    @classmethod
    def neutral_low_confidence(cls, source: str = "fallback") -> "EmotionReading":
        """What empty or unreadable input yields: neutral, barely above uniform."""
        uniform = 1.0 / len(EMOTIONS)
        bump = 0.1
        probs = [uniform - bump / (len(EMOTIONS) - 1)] * len(EMOTIONS)
        probs[EMOTIONS.index("neutral")] = uniform + bump
        return cls(probs=tuple(probs), source=source)


class EmotionDetector(Protocol):
    """Anything that reads an emotion distribution from what the debtor said."""

    name: str

    def detect(self, text: str, prosody: Optional[ProsodyFeatures] = None) -> EmotionReading: ...


@dataclass(frozen=True)
class Scenario:
    """One credit-recovery case (a CRAD row or a generated one). Days are repayment timelines."""

    scenario_id: str
    creditor_target_days: int
    debtor_target_days: int
    outstanding_balance: float
    days_overdue: int = 0
    credit_type: str = ""
    recovery_stage: str = ""
    cash_flow: str = ""
    reason_overdue: str = ""
    creditor_name: str = "the creditor"
    debtor_name: str = "the debtor"
    currency: str = "USD"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Offer:
    """Terms on the table: repayment timeline in days, optional up-front amount (0 = none)."""

    days: int
    upfront_amount: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PolicyDecision:
    """Which emotion the creditor expresses, and why (replayable from its inputs)."""

    creditor_emotion: str
    branch: str  # "opening", "wsls_stay", "wsls_shift", "hmm", "fixed", "random", "released", ...
    belief: tuple[float, ...] = ()  # HIDDEN_STATES order, empty when the policy keeps none
    expected_payoffs: tuple[float, ...] = ()  # per creditor emotion (EMOTIONS order), when computed
    last_payoff: Optional[float] = None
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["belief"] = dict(zip(HIDDEN_STATES, self.belief)) if self.belief else {}
        data["expected_payoffs"] = dict(zip(EMOTIONS, self.expected_payoffs)) if self.expected_payoffs else {}
        return data


@dataclass(frozen=True)
class Directive:
    """What the creditor says next: decided in code, phrased by the language model."""

    session_id: str
    turn: int
    creditor_emotion: str
    policy_branch: str
    # "greet", "propose", "counter", "hold", "accept", "close", "clarify", "confirm", "refuse_terms_change"
    intent: str
    offer: Offer
    accepts_debtor_offer: bool
    persona: str
    temperature: float
    debtor_text: str = ""
    currency: str = "USD"
    # Whom the agent speaks for (Scenario.creditor_name): the reply names it.
    creditor_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reply:
    """The creditor's reply as spoken: sentences, and whether the written template replaced the model."""

    sentences: tuple[str, ...]
    from_fallback: bool
    rejection_reason: str = ""

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True)
class TurnRecord:
    """One debtor turn as the reasoning saw it, for logs, persistence and reports."""

    turn: int
    debtor_text: str
    reading: EmotionReading
    belief: tuple[float, ...]
    decision: PolicyDecision
    debtor_offer: Optional[Offer]
    debtor_acceptance: Optional[str]  # "accept", "reject" or None
    directive: Directive
    timings_s: dict[str, float] = field(default_factory=dict)
