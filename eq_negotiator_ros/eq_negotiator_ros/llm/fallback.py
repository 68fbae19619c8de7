"""Written replies for when the language model fails (guard rejection, error, timeout).

A reply is an emotion opener (the persona's voice: llm/personas.py, emotion -> persona) followed by an
intent sentence that carries the decided numbers. Several variants of each; the variant is chosen
from the Directive's turn, so the same Directive always gives the same words (replayable) while
consecutive turns do not repeat themselves. Every template passes the reply guard (tested for every
(intent, emotion, variant)); respectful, honest, no threats, no legal claims.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..eq.records import Directive, Reply, Scenario
from .guard import check_reply
from .personas import normalise_emotion

# What the emotion sounds like while negotiating.
NEGOTIATION_OPENERS: dict[str, tuple[str, ...]] = {
    "joy": (
        "I'm glad we're talking this through.",
        "Thanks for working on this with me.",
        "I'm confident we can find a way forward.",
    ),
    "sadness": (
        "I understand this is a hard time for you.",
        "I hear how difficult things are right now.",
        "I'm sorry things have been so tough.",
    ),
    "anger": ("Let me be clear.", "I need to be direct with you.", "Here is where we stand."),
    "fear": (
        "I want to be careful and clear about this.",
        "It's important we settle this soon, before the account falls further behind.",
        "Leaving this open only makes it harder to resolve.",
    ),
    "surprise": (
        "Let's look at this from a fresh angle.",
        "Here's an option that might work for you.",
        "Let's try something a little different.",
    ),
    "disgust": (
        "I'm disappointed the payments were missed.",
        "Frankly, the missed payments are disappointing.",
        "I expected this to be settled by now.",
    ),
    "neutral": ("Thank you for your reply.", "Let's keep this simple.", "Here is the plan."),
}

# What the emotion sounds like once the negotiation ends.
CLOSING_OPENERS: dict[str, tuple[str, ...]] = {
    "joy": ("Wonderful.", "That's great news."),
    "sadness": ("I know this has not been easy.", "Thank you for bearing with me through a hard time."),
    "anger": ("Very well.", "Understood."),
    "fear": ("Thank you for taking this seriously.", "It's good to settle this now."),
    "surprise": ("Well, that worked out.", "That came together nicely."),
    "disgust": ("Thank you.", "Alright."),
    "neutral": ("Thank you.", "Good."),
}

# Intent sentences; {terms} is "{days} days" plus the up-front amount when there is one.
INTENT_SENTENCES: dict[str, tuple[str, ...]] = {
    "greet": (
        "I'm calling about the overdue balance on your account, and we would like it repaid within {terms}.",
        "I'm reaching out about your overdue account; our proposal is repayment within {terms}.",
    ),
    "propose": (
        "We can offer you {terms} to repay the balance.",
        "Our proposal is now {terms} to settle the account.",
        "Could you manage repayment within {terms}?",
    ),
    "counter": (
        "We can't go that far, but we can offer {terms}.",
        "I understand your position; what we can offer is {terms}.",
        "Let's meet in between: {terms} to repay the balance.",
    ),
    "hold": (
        "Our offer stays at {terms}.",
        "We are keeping the offer at {terms}.",
        "The offer remains {terms} to repay the balance.",
    ),
    "accept_debtor": (
        "Your proposal works for us: {terms}.",
        "We accept your proposal of {terms}.",
    ),
    "accept_standing": (
        "Thank you for accepting; repayment within {terms} it is.",
        "Then we have an agreement: {terms} to repay the balance.",
    ),
    "close": (
        "We have not been able to agree today; our last offer was {terms}, and you are welcome to contact "
        "us to discuss it.",
        "It seems we cannot reach an agreement right now; our offer of {terms} was the best we could do, "
        "and we will follow up in writing.",
    ),
    "clarify": (
        "Sorry, I didn't catch that; could you say it again?",
        "I'm sorry, could you repeat that, please?",
        "I didn't quite understand; what repayment timeline can you manage?",
    ),
    "confirm": (
        "Just to be sure I heard you right: {terms}, is that correct?",
        "Let me check that I understood you: {terms}, is that right?",
    ),
    "refuse_terms_change": (
        "I can't change the terms that way; our offer is {terms}.",
        "The terms aren't something I can set aside; the offer stands at {terms}.",
        "I'm not able to do that, but I can offer {terms} to repay the balance.",
    ),
}

# Used only if a template sentence ever fails the guard (it should not: the tests check them all).
SAFE_SENTENCE = "Our offer is {terms}."

CLOSING_INTENTS = frozenset({"accept", "close"})


def _money(amount: float, currency: str) -> str:
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    return f"{number} dollars" if currency.upper() == "USD" else f"{number} {currency}"


def terms_phrase(directive: Directive) -> str:
    """The decided terms in words: "45 days", or "45 days, with 200 dollars paid up front"."""
    phrase = f"{int(directive.offer.days)} days"
    if directive.offer.upfront_amount and directive.offer.upfront_amount > 0:
        phrase += f", with {_money(directive.offer.upfront_amount, directive.currency)} paid up front"
    return phrase


def template_key(directive: Directive) -> str:
    """The INTENT_SENTENCES key for a Directive (unknown intents speak as "hold")."""
    if directive.intent == "accept":
        return "accept_debtor" if directive.accepts_debtor_offer else "accept_standing"
    return directive.intent if directive.intent in INTENT_SENTENCES else "hold"


def _pick(options: Sequence[str], index: int) -> str:
    return options[index % len(options)]


def fallback_sentences(directive: Directive, variant: int) -> tuple[str, str]:
    """(opener, intent sentence) of one variant, numbers filled in."""
    emotion = normalise_emotion(directive.creditor_emotion)
    openers = CLOSING_OPENERS if directive.intent in CLOSING_INTENTS else NEGOTIATION_OPENERS
    options = openers[emotion]
    opener = _pick(options, variant)
    sentence = _pick(INTENT_SENTENCES[template_key(directive)], variant // len(options) + variant)
    return opener, sentence.format(terms=terms_phrase(directive))


def fallback_reply(
    directive: Directive, scenario: Optional[Scenario] = None, rejection_reason: str = ""
) -> Reply:
    """The written reply for a Directive: deterministic given its turn (the variant index)."""
    variant = max(0, int(directive.turn))
    sentences = []
    for sentence in fallback_sentences(directive, variant):
        if not check_reply(sentence, directive).ok:
            sentence = SAFE_SENTENCE.format(terms=terms_phrase(directive))
        sentences.append(sentence)
    return Reply(sentences=tuple(sentences), from_fallback=True, rejection_reason=rejection_reason)
