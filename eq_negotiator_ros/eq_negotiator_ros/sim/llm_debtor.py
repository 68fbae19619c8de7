"""`--debtor llm`: the local language model writes the debtor's emotional words.

Same split as the creditor's side: the simulator decides the emotion, the intent and the numbers;
the model only writes the feeling. The base model (no chat template) gets a transcript-style
completion prompt ending with the debtor's turn, and one sentence is kept. The sentence must be
usable: short, English, no digits and no offer or acceptance of its own (read with the creditor's
own term extraction); otherwise the phrasebank's opener is used. The numbers always come from the
phrasebank's intent line, so the negotiation's terms never depend on the model's arithmetic.
"""

from __future__ import annotations

import random
import re
from typing import Any, Optional

from ..config import LlmConfig
from ..eq.records import Scenario
from .debtor import DebtorPersona
from .phrasebank import OPENERS, UtteranceSpec, compose_utterance

MAX_SENTENCE_CHARS = 200
MIN_SENTENCE_CHARS = 3
MAX_TOKENS = 40
# Debtors should sound varied; the creditor's schedule (llm.temperature_*) is for the creditor.
DEBTOR_TEMPERATURE = 0.8
_FEELING = {
    "joy": "relieved and hopeful",
    "sadness": "sad and discouraged",
    "anger": "angry",
    "fear": "scared and anxious",
    "surprise": "surprised",
    "disgust": "disgusted",
    "neutral": "calm",
}
# The base model confuses the roles ("I am not a collector"): a sentence naming one is not kept.
_ROLE_WORDS = re.compile(r"\b(?:collector|creditor|debtor|agent)s?\b", re.IGNORECASE)
_TYPOGRAPHIC = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def debtor_prompt(spec: UtteranceSpec, scenario: Scenario, persona: DebtorPersona, creditor_text: str) -> str:
    """Transcript-style completion prompt; the model continues the debtor's line."""
    reason = (scenario.reason_overdue or "a hard year").lower()
    header = (
        f"A phone call about an overdue business debt. {scenario.debtor_name} owes "
        f"{scenario.creditor_name} money, {scenario.days_overdue} days overdue after {reason}. "
        f"The debtor is {persona.description}.\n\n"
    )
    creditor_line = " ".join((creditor_text or "Hello, I'm calling about your overdue balance.").split())[
        :400
    ]
    return f"{header}Collector: {creditor_line}\nDebtor ({_FEELING.get(spec.emotion, 'calm')}):"


def usable_sentence(text: str, intent: str = "counter") -> Optional[str]:
    """The first sentence of the model's output when it can be said as the debtor's feeling before
    an utterance of this intent (a refusal word is fine before a counter-offer or a stall, not
    before an acceptance)."""
    from ..eq.extraction import extract_terms

    text = " ".join((text or "").translate(_TYPOGRAPHIC).split())
    if not text:
        return None
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].strip().strip('"').strip()
    if not (MIN_SENTENCE_CHARS <= len(sentence) <= MAX_SENTENCE_CHARS):
        return None
    if sum(c.isascii() for c in sentence) < 0.95 * len(sentence) or not re.search(r"[A-Za-z]{2}", sentence):
        return None
    if any(c.isdigit() for c in sentence) or _ROLE_WORDS.search(sentence):
        return None
    terms = extract_terms(sentence)
    if terms.offer_days is not None or terms.upfront_amount is not None:
        return None  # the model made its own offer: the numbers are the code's
    if terms.acceptance == "accept" or (terms.acceptance == "reject" and intent == "accept"):
        return None  # the model said yes (or no before a yes): acceptance is the code's decision
    if sentence[-1] not in ".!?":
        sentence += "."
    return sentence


class LlmDebtorPhraser:
    """A phraser for DebtorSimulator: the model writes the opener, the phrasebank the rest."""

    def __init__(self, llama: Any, llm_config: LlmConfig, persona: DebtorPersona) -> None:
        self._llama = llama
        self._llm_config = llm_config
        self._persona = persona
        self.creditor_text = ""  # set by the runner before each debtor turn
        self.last_from_model = False

    def __call__(self, spec: UtteranceSpec, scenario: Scenario, rng: random.Random) -> str:
        self.last_from_model = False
        # Draw the phrasebank utterance first so the simulator's random stream is the same
        # whether or not the model's sentence is used.
        fallback = compose_utterance(spec, scenario, rng)
        model_seed = rng.getrandbits(31)
        if spec.minimal:
            return fallback  # a minimal answer is minimal: no model needed
        from ..llm.generation import stream_sentences

        try:
            # The first complete sentence is all that is kept: stop generating there.
            text = next(
                iter(
                    stream_sentences(
                        self._llama,
                        debtor_prompt(spec, scenario, self._persona, self.creditor_text),
                        max_tokens=MAX_TOKENS,
                        temperature=DEBTOR_TEMPERATURE,
                        stop=["\n", "Collector:", "Debtor"],
                        timeout_s=self._llm_config.timeout_s,
                        top_p=0.95,
                        seed=model_seed,
                    )
                ),
                "",
            )
        except Exception:  # timeout or model failure must not stop the benchmark: the phrasebank speaks
            return fallback
        sentence = usable_sentence(text, spec.intent)
        if sentence is None:
            return fallback
        self.last_from_model = True
        # Replace the phrasebank's emotional opener with the model's sentence; keep the tactic
        # and intent lines (and so the numbers) exactly as decided.
        opener_variants = [o.format(days=spec.days or "", reason="") for o in OPENERS[spec.emotion]]
        for opener in sorted(opener_variants, key=len, reverse=True):
            if fallback.startswith(opener):
                return sentence + fallback[len(opener) :]
        return sentence + " " + fallback
