"""Core records (eq/records.py) <-> the package's ROS messages, in one place: the nodes publish and
read through these functions and never copy fields by hand. Stamps are the caller's (a node's
clock); everything else a reader needs travels in the message.
"""

from __future__ import annotations

from typing import Optional, Sequence

from builtin_interfaces.msg import Time

from eq_negotiator_interfaces.msg import (
    CreditorDirective,
    EmotionState,
    NegotiationState,
    ReplyChunk,
    Utterance,
)

from ..eq.emotions import EMOTIONS, HIDDEN_STATES
from ..eq.records import Directive, EmotionReading, Offer, ProsodyFeatures, Scenario
from ..eq.session import SessionSnapshot
from ..llm.phrasing import ReplySentence

# Speakers of CreditorDirective.history_speakers.
AGENT, DEBTOR = "agent", "debtor"


class MessageError(ValueError):
    """A message that cannot become a record; the text says which field is wrong."""


def seconds(stamp: Time) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def to_time(value_s: float) -> Time:
    whole = int(value_s)
    return Time(sec=whole, nanosec=int((value_s - whole) * 1e9))


# -- directive ------------------------------------------------------------------------------------


def directive_to_message(directive: Directive, history: Sequence[tuple[str, str]] = ()) -> CreditorDirective:
    """history: (speaker, text) pairs, oldest first, speaker AGENT or DEBTOR."""
    message = CreditorDirective(
        session_id=directive.session_id,
        turn=int(directive.turn),
        creditor_emotion=directive.creditor_emotion,
        policy_branch=directive.policy_branch,
        intent=directive.intent,
        offer_days=int(directive.offer.days),
        upfront_amount=float(directive.offer.upfront_amount),
        currency=directive.currency,
        accepts_debtor_offer=bool(directive.accepts_debtor_offer),
        persona=directive.persona,
        temperature=float(directive.temperature),
        debtor_text=directive.debtor_text,
        creditor_name=directive.creditor_name,
    )
    message.history_speakers = [speaker for speaker, _ in history]
    message.history_texts = [text for _, text in history]
    return message


def directive_from_message(message: CreditorDirective) -> tuple[Directive, list[tuple[str, str]]]:
    """The Directive and the conversation history it carries; MessageError for a history whose
    speakers and texts do not pair up, or a speaker that is neither AGENT nor DEBTOR."""
    speakers, texts = list(message.history_speakers), list(message.history_texts)
    if len(speakers) != len(texts):
        raise MessageError(
            f"directive of turn {message.turn}: {len(speakers)} history_speakers for "
            f"{len(texts)} history_texts"
        )
    unknown = sorted(set(speakers) - {AGENT, DEBTOR})
    if unknown:
        raise MessageError(
            f"directive of turn {message.turn}: unknown history speaker {unknown[0]!r} "
            f"(use {AGENT!r} or {DEBTOR!r})"
        )
    directive = Directive(
        session_id=message.session_id,
        turn=int(message.turn),
        creditor_emotion=message.creditor_emotion,
        policy_branch=message.policy_branch,
        intent=message.intent,
        offer=Offer(days=int(message.offer_days), upfront_amount=float(message.upfront_amount)),
        accepts_debtor_offer=bool(message.accepts_debtor_offer),
        persona=message.persona,
        temperature=float(message.temperature),
        debtor_text=message.debtor_text,
        currency=message.currency or "USD",
        creditor_name=message.creditor_name,
    )
    return directive, list(zip(speakers, texts))


# -- emotion ----------------------------------------------------------------------------------------


def emotion_to_message(
    reading: EmotionReading, belief: Sequence[float], session_id: str, turn: int
) -> EmotionState:
    valence, arousal = reading.valence_arousal
    most_likely = max(range(len(belief)), key=lambda i: belief[i])
    return EmotionState(
        turn=int(turn),
        session_id=session_id,
        emotion_labels=list(EMOTIONS),
        emotion_probs=[float(p) for p in reading.probs],
        dominant_emotion=reading.dominant,
        confidence=float(reading.confidence),
        valence=float(valence),
        arousal=float(arousal),
        hidden_state_labels=list(HIDDEN_STATES),
        hidden_state_belief=[float(b) for b in belief],
        most_likely_hidden_state=HIDDEN_STATES[most_likely],
        source=reading.source,
    )


def emotion_from_message(message: EmotionState) -> tuple[EmotionReading, tuple[float, ...]]:
    """The reading and the hidden-state belief, in this package's label orders (a publisher that
    lists the labels in another order is read by name)."""
    if sorted(message.emotion_labels) != sorted(EMOTIONS) or len(message.emotion_probs) != len(EMOTIONS):
        raise MessageError(f"emotion_labels must be {', '.join(EMOTIONS)} with one probability each")
    if sorted(message.hidden_state_labels) != sorted(HIDDEN_STATES) or len(
        message.hidden_state_belief
    ) != len(HIDDEN_STATES):
        raise MessageError(f"hidden_state_labels must be {', '.join(HIDDEN_STATES)} with one belief each")
    probs = dict(zip(message.emotion_labels, message.emotion_probs))
    belief = dict(zip(message.hidden_state_labels, message.hidden_state_belief))
    reading = EmotionReading(probs=tuple(float(probs[e]) for e in EMOTIONS), source=message.source)
    return reading, tuple(float(belief[s]) for s in HIDDEN_STATES)


# -- speech ---------------------------------------------------------------------------------------


def prosody_from_utterance(message: Utterance) -> Optional[ProsodyFeatures]:
    """The utterance's prosody; None when the sender measured none (a typed line, a test)."""
    if message.energy_dbfs == 0.0 and message.pitch_hz == 0.0:
        return None
    return ProsodyFeatures(
        energy_dbfs=float(message.energy_dbfs),
        pitch_hz=float(message.pitch_hz),
        pitch_variability_semitones=float(message.pitch_variability_semitones),
        speaking_rate_wps=float(message.speaking_rate_wps),
        duration_s=max(0.0, seconds(message.end_time) - seconds(message.start_time)),
    )


# -- negotiation state and replies ----------------------------------------------------------------


def state_to_message(snapshot: Optional[SessionSnapshot], scenario: Optional[Scenario]) -> NegotiationState:
    """phase "idle" when there is no session."""
    if snapshot is None or scenario is None:
        return NegotiationState(phase="idle")
    message = NegotiationState(
        session_id=snapshot.session_id,
        scenario_id=snapshot.scenario_id,
        turn=int(snapshot.turn),
        utterances=int(snapshot.utterances),
        phase=snapshot.phase,
        creditor_target_days=int(scenario.creditor_target_days),
        outstanding_balance=float(scenario.outstanding_balance),
        currency=scenario.currency,
        outcome=snapshot.outcome or "",
    )
    if snapshot.creditor_offer is not None:
        message.creditor_offer_days = int(snapshot.creditor_offer.days)
        message.creditor_upfront_amount = float(snapshot.creditor_offer.upfront_amount)
    if snapshot.debtor_offer is not None:
        message.debtor_offer_days = int(snapshot.debtor_offer.days)
        message.debtor_upfront_amount = float(snapshot.debtor_offer.upfront_amount or 0.0)
    if snapshot.agreed_offer is not None:
        message.agreed_days = int(snapshot.agreed_offer.days)
        message.agreed_upfront_amount = float(snapshot.agreed_offer.upfront_amount)
    return message


def reply_to_message(sentence: ReplySentence, directive: Directive) -> ReplyChunk:
    return ReplyChunk(
        session_id=directive.session_id,
        turn=int(directive.turn),
        index=int(sentence.index),
        text=sentence.text,
        final=bool(sentence.final),
        from_fallback=bool(sentence.from_fallback),
        rejection_reason=sentence.rejection_reason,
        emotion=directive.creditor_emotion,
    )
