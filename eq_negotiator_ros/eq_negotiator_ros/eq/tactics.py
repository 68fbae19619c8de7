"""Negotiation tactics heard in a debtor's words: threats, hardship, promises, guilt-tripping and
minimal answers (the debtor tactics of the EQ-Negotiator evaluation, arXiv 2511.03370: threatening,
cheating = exaggerated hardship and false promises, victim = guilt-tripping, stonewalling =
minimal answers and delays).

The cue lists are general debt-collection language (what consumer-credit call scripts and
complaint guidance name), written without reference to the simulator's phrasebank, so that they
read debtors the project never wrote. A cue is evidence, not proof: the policy uses the rates of
cues over a negotiation as context (eq/policy.py), never a single hit as a verdict.

Pure: text in, a record out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TACTIC_NAMES: tuple[str, ...] = ("threat", "hardship", "promise", "guilt", "minimal")

# Word boundaries on both sides unless a stem ("struggl") is meant to match its endings.
_CUES: dict[str, re.Pattern[str]] = {
    "threat": re.compile(
        r"\b(?:lawyers?|attorneys?|sue|suing|sued|lawsuit|court|legal action|regulators?|ombudsman|"
        r"complain(?:t|ts)?|report (?:you|this|your)|authorities|bankrupt\w*|the press|media|"
        r"social media|bad reviews?|review sites?|expose|you'?ll regret|consumer protection|"
        r"harass\w*|see you in court)\b",
        re.I,
    ),
    "hardship": re.compile(
        r"\b(?:lost (?:my|our) (?:job|income|contract|biggest client)|laid off|unemploy\w*|medical|"
        r"hospital\w*|surgery|illness|sick|can'?t afford|cannot afford|no money|broke|struggl\w*|"
        r"hardship|behind on|cash flow|rent|mortgage|evict\w*|divorce|funeral|bills|"
        r"barely (?:scraping|getting) by|(?:my|our) (?:kids|children|family))\b",
        re.I,
    ),
    "promise": re.compile(
        r"\b(?:i promise|we promise|i swear|guarantee\w*|you have my word|trust me|definitely pay|"
        r"(?:i|we)(?:'ll| will) (?:definitely |surely |certainly )?pay|for sure|money is coming|"
        r"payment is coming|check is coming|cheque is coming|expecting (?:a|some|the) "
        r"(?:payment|check|cheque|money|transfer)|(?:big|new) (?:contract|client|order|deal)|"
        r"tax refund|bonus)\b",
        re.I,
    ),
    "guilt": re.compile(
        r"\b(?:how (?:can|could) you|heartless|you (?:don'?t|do not) care|nobody cares|you people|"
        r"no heart|cruel|unfair|after everything|it'?s not my fault|not my fault|shame on you|"
        r"taking advantage|kick(?:ing)? (?:me|someone|people) (?:when|while)|conscience|inhuman|"
        r"everyone is against me|always me|blame me|victim)\b",
        re.I,
    ),
}
_WORD = re.compile(r"[A-Za-z']+|\d+")
# A reply of at most this many words is a minimal answer ("Maybe.", "Fine, 60 days.").
MINIMAL_MAX_WORDS = 4


@dataclass(frozen=True)
class TacticCues:
    """Which tactics one utterance shows (each 0 or 1), in TACTIC_NAMES order."""

    threat: float = 0.0
    hardship: float = 0.0
    promise: float = 0.0
    guilt: float = 0.0
    minimal: float = 0.0

    def as_tuple(self) -> tuple[float, ...]:
        return (self.threat, self.hardship, self.promise, self.guilt, self.minimal)


def detect_tactics(text: object) -> TacticCues:
    """Tactic cues of one debtor utterance. Anything that is not text reads as no cue at all."""
    if not isinstance(text, str) or not text.strip():
        return TacticCues()
    hits = {name: 1.0 if pattern.search(text) else 0.0 for name, pattern in _CUES.items()}
    words = len(_WORD.findall(text))
    return TacticCues(minimal=1.0 if 0 < words <= MINIMAL_MAX_WORDS else 0.0, **hits)
