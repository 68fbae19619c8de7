"""What a creditor policy is: the complete interface every policy offers (CreditorPolicy), and a
small base class (PolicyBase) with the defaults of a policy that neither learns nor needs the
optional observations, so callers call every method without asking whether it exists.

Pure: no files, clocks or ROS.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence

from ..config import EmotionModel
from .records import EmotionReading, PolicyDecision


class CreditorPolicy(Protocol):
    """Chooses the creditor's emotion each turn. `eq` and every baseline implement this."""

    name: str

    @property
    def model(self) -> Optional[EmotionModel]:
        """The emotion model the policy decides with (the tracker must filter with the same one);
        None: the configured priors."""
        ...

    @property
    def learns(self) -> bool:
        """Whether `learned` changes with experience and is worth saving after a negotiation."""
        ...

    @property
    def learned(self) -> Any:
        """What the policy learned (eq.learning.LearnedModel), saved by the shell; None when it
        learns nothing."""
        ...

    def start(self) -> PolicyDecision:
        """New negotiation: forget the per-negotiation history, return the opening decision."""
        ...

    def observe_utterance(self, text: str) -> None:
        """The debtor's words, before the reply to them is decided (tactic cues)."""
        ...

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        """Decide after a debtor utterance (the reading) given the tracker's belief."""
        ...

    def observe_terms(
        self, debtor_offer_days: int | None, creditor_offer_days: int | None, agreed: bool
    ) -> None:
        """The terms after the decided reply: how far the debtor moved, whether they agreed."""
        ...

    def observe_outcome(self, agreed_days: float | None, target_days: float | None) -> None:
        """The exact agreed terms, before finish(), when the caller knows them."""
        ...

    def finish(self, success: bool) -> None:
        """The negotiation ended; policies that learn online update here."""
        ...

    def to_dict(self) -> Optional[dict]:
        """The per-negotiation state, JSON-ready, so a resumed session continues exactly; None when
        the policy keeps none of its own (a resumed session then replays start() and choose())."""
        ...

    def load_dict(self, data: dict) -> "CreditorPolicy":
        """Restore what to_dict saved; returns the policy."""
        ...


class PolicyBase:
    """Defaults of CreditorPolicy: no model of its own, nothing learned, the observations ignored,
    no per-negotiation state. A policy subclasses it and overrides what it has."""

    name = "policy"

    @property
    def model(self) -> Optional[EmotionModel]:
        return None

    @property
    def learns(self) -> bool:
        return False

    @property
    def learned(self) -> Any:
        return None

    def start(self) -> PolicyDecision:
        raise NotImplementedError

    def choose(self, reading: EmotionReading, belief: Sequence[float]) -> PolicyDecision:
        raise NotImplementedError

    def observe_utterance(self, text: str) -> None:
        """Ignored by default."""

    def observe_terms(
        self, debtor_offer_days: int | None, creditor_offer_days: int | None, agreed: bool
    ) -> None:
        """Ignored by default."""

    def observe_outcome(self, agreed_days: float | None, target_days: float | None) -> None:
        """Ignored by default."""

    def finish(self, success: bool) -> None:
        """Nothing to learn by default."""

    def to_dict(self) -> Optional[dict]:
        return None

    def load_dict(self, data: dict) -> "PolicyBase":
        return self
