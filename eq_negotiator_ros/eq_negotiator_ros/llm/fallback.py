"""Written replies for when the language model fails (guard rejection, error, timeout).

A reply is an emotion opener (the persona's voice: llm/personas.py, emotion -> persona) followed by an
intent sentence, also in the persona's voice, that carries the decided numbers. Several variants of
each; the variant is chosen from the Directive's turn, so the same Directive always gives the same
words (replayable) while consecutive turns do not repeat themselves. Every template passes the reply
guard (tested for every (intent, emotion, variant)); respectful, honest, no threats, no legal claims.
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

# The intent sentence in each persona's voice (llm/personas.py, emotion -> persona). The terms
# sentence is the longest of a reply and the one every reply has: said in one neutral register for
# all seven personas, it was the part of the reply where the chosen voice went quiet. Written from
# the persona definitions; the same facts as INTENT_SENTENCES (the factual persona's, and the
# fallback for any emotion or intent missing here): the decided terms, nothing promised about later
# turns, no fact about the person beyond the overdue account.
PERSONA_INTENT_SENTENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "joy": {
        "greet": (
            "I'm calling about the overdue balance on your account, and I'm hopeful we can settle it "
            "together within {terms}.",
            "It's good to reach you about your overdue account; I'd love for us to agree on repayment "
            "within {terms}.",
        ),
        "propose": (
            "I'd be happy to offer you {terms} to repay the balance.",
            "I think {terms} to repay the balance could work nicely for you.",
        ),
        "counter": (
            "We can't go quite that far, but I'm happy to offer {terms}.",
            "I'd love to meet you partway, with {terms} to repay the balance.",
        ),
        "hold": (
            "I'm still hopeful we can settle on {terms}.",
            "Our offer stays at {terms}, and I really think it can work for you.",
        ),
        "accept_debtor": (
            "Your proposal works for us, and I'm delighted: {terms}.",
            "I'm happy to accept your proposal of {terms}.",
        ),
        "accept_standing": (
            "Thank you so much for accepting; repayment within {terms} it is.",
            "I'm so glad we have an agreement: {terms} to repay the balance.",
        ),
        "close": (
            "We couldn't agree today; our last offer was {terms}, and I'd be glad to hear from you about it.",
            "It seems we can't agree just now; our offer of {terms} was the best we could do, and I'm still "
            "hopeful we'll talk again.",
        ),
        "clarify": (
            "Sorry, I'd love to get this right; could you say that again?",
            "I didn't quite catch that, but I'm happy to hear it again; what timeline works for you?",
        ),
        "confirm": (
            "Just so I get it right for you: {terms}, is that correct?",
            "Happy to check I understood you: {terms}, is that right?",
        ),
        "refuse_terms_change": (
            "I can't change the terms that way, but I'd gladly offer {terms} to repay the balance.",
            "That's not something I can set aside, but I'm still happy to offer {terms}.",
        ),
    },
    "sadness": {
        "greet": (
            "I'm sorry to trouble you about the overdue balance on your account; we'd like it repaid "
            "within {terms}.",
            "I know this may be a hard time, and I'm calling about your overdue account; our proposal is "
            "repayment within {terms}.",
        ),
        "propose": (
            "I know it's hard, and we can offer you {terms} to repay the balance.",
            "I hope {terms} to repay the balance gives you a little room to breathe.",
        ),
        "counter": (
            "I'm sorry we can't go that far, but we can offer {terms}.",
            "I understand how hard this is; what we can offer is {terms}.",
        ),
        "hold": (
            "I'm sorry, but our offer stays at {terms}.",
            "I know it's difficult, and the offer remains {terms} to repay the balance.",
        ),
        "accept_debtor": (
            "Your proposal works for us, and I hope it brings some relief: {terms}.",
            "I know this wasn't easy, and we accept your proposal of {terms}.",
        ),
        "accept_standing": (
            "Thank you for accepting, I know it wasn't easy; repayment within {terms} it is.",
            "Then we have an agreement, and I hope it eases things a little: {terms} to repay the balance.",
        ),
        "close": (
            "I'm sorry we couldn't agree today; our last offer was {terms}, and you're welcome to contact us "
            "when you feel able.",
            "I'm sorry it hasn't come together; our offer of {terms} was the best we could do, and we will "
            "follow up in writing.",
        ),
        "clarify": (
            "I'm so sorry, I didn't catch that; could you say it again?",
            "I'm sorry to ask again; what repayment timeline could you manage?",
        ),
        "confirm": (
            "I'm sorry to check, but I want to get it right for you: {terms}, is that correct?",
            "Gently, just to be sure I understood you: {terms}, is that right?",
        ),
        "refuse_terms_change": (
            "I'm sorry, I can't change the terms that way; our offer is {terms}.",
            "I understand why you ask, but I'm not able to do that; I can offer {terms} to repay the "
            "balance.",
        ),
    },
    "anger": {
        "greet": (
            "I'm calling about the overdue balance on your account, and it needs to be repaid within "
            "{terms}.",
            "Your account is overdue, and our proposal is clear: repayment within {terms}.",
        ),
        "propose": (
            "The offer is {terms} to repay the balance, plain and simple.",
            "We need the balance repaid within {terms}.",
        ),
        "counter": (
            "That's too far; {terms} is what we can offer.",
            "We won't go that far; the offer is {terms}.",
        ),
        "hold": (
            "The offer stays at {terms}, and I need a clear answer.",
            "We are keeping the offer at {terms}, full stop.",
        ),
        "accept_debtor": (
            "Your proposal works: {terms}, and I expect it to be kept.",
            "We accept your proposal of {terms}, and I'll hold you to it.",
        ),
        "accept_standing": (
            "Then it's settled: {terms} to repay the balance, on time.",
            "Good, repayment within {terms} it is, and I expect it to be kept.",
        ),
        "close": (
            "We could not agree today; our last offer was {terms}, and the next step is yours.",
            "We can't reach an agreement right now; our offer of {terms} was the best we could do, and we "
            "will follow up in writing.",
        ),
        "clarify": (
            "I didn't catch that; say it again, clearly, please.",
            "Give me a clear answer, please: what repayment timeline can you manage?",
        ),
        "confirm": (
            "Let me be exact: {terms}, is that correct?",
            "To be clear and exact: {terms}, yes or no?",
        ),
        "refuse_terms_change": (
            "No, the terms don't change that way; our offer is {terms}.",
            "That's not on the table; the offer stands at {terms}.",
        ),
    },
    "fear": {
        "greet": (
            "I'm calling about the overdue balance on your account, and I'd like it settled within {terms} "
            "before it becomes harder to sort out.",
            "I'm concerned about your overdue account; our proposal is repayment within {terms}.",
        ),
        "propose": (
            "To keep this from getting harder, we can offer you {terms} to repay the balance.",
            "I'd feel safer with a plan in place: {terms} to repay the balance.",
        ),
        "counter": (
            "I'm worried that goes too far, but we can offer {terms}.",
            "Carefully, then: what we can offer is {terms}.",
        ),
        "hold": (
            "I'm afraid our offer has to stay at {terms}.",
            "To be careful, we are keeping the offer at {terms}.",
        ),
        "accept_debtor": (
            "Your proposal works for us, and it's a relief to have it settled: {terms}.",
            "We accept your proposal of {terms}; that makes this much safer.",
        ),
        "accept_standing": (
            "Thank you for accepting; repayment within {terms} takes a weight off for both of us.",
            "Then we have an agreement, which is a relief: {terms} to repay the balance.",
        ),
        "close": (
            "I'm concerned we couldn't agree today; our last offer was {terms}, and please contact us soon "
            "to discuss it.",
            "I'm worried we can't reach an agreement right now; our offer of {terms} was the best we could "
            "do, and we will follow up in writing.",
        ),
        "clarify": (
            "I want to be careful not to get this wrong; could you say it again?",
            "I'm not sure I understood, and I'd hate to guess; what repayment timeline can you manage?",
        ),
        "confirm": (
            "I want to be careful here: {terms}, is that correct?",
            "So there's no mistake: {terms}, is that right?",
        ),
        "refuse_terms_change": (
            "I'm afraid I can't change the terms that way; our offer is {terms}.",
            "It wouldn't be safe for me to set the terms aside; the offer stands at {terms}.",
        ),
    },
    "surprise": {
        "greet": (
            "Oh, I'm calling about the overdue balance on your account; could repayment within {terms} "
            "work for you?",
            "I've been curious how we might sort out your overdue account; what about repayment within "
            "{terms}?",
        ),
        "propose": (
            "Here's an idea: {terms} to repay the balance, how does that sound?",
            "What if we tried {terms} to repay the balance?",
        ),
        "counter": (
            "Oh, that's further than we can go, but what about {terms}?",
            "Let's try meeting in between: how about {terms}?",
        ),
        "hold": (
            "Huh, the offer is still {terms}, so let's see how we can make that work.",
            "Let's look at it fresh: the offer remains {terms} to repay the balance.",
        ),
        "accept_debtor": (
            "Oh, your proposal works for us: {terms}!",
            "Well, look at that, we accept your proposal of {terms}!",
        ),
        "accept_standing": (
            "Oh, you're accepting, great; repayment within {terms} it is!",
            "Well then, we have an agreement: {terms} to repay the balance!",
        ),
        "close": (
            "Well, we couldn't agree today; our last offer was {terms}, and a fresh look might help, so do "
            "contact us.",
            "Oh, it seems we can't agree right now; our offer of {terms} was the best we could do, and we "
            "will follow up in writing.",
        ),
        "clarify": (
            "Oh, I missed that; could you say it again?",
            "Wait, I didn't quite catch it; what repayment timeline could work for you?",
        ),
        "confirm": (
            "Oh, let me check I caught that: {terms}, is that right?",
            "Wait, did I hear you right: {terms}?",
        ),
        "refuse_terms_change": (
            "Oh, I can't change the terms that way, but what about {terms} to repay the balance?",
            "Huh, that's not something I can do, but the offer of {terms} is still there.",
        ),
    },
    "disgust": {
        "greet": (
            "I'm calling about the missed payments on your account, and we would like the balance repaid "
            "within {terms}.",
            "Frankly, your account has been overdue for too long; our proposal is repayment within {terms}.",
        ),
        "propose": (
            "Given the missed payments, we can offer you {terms} to repay the balance.",
            "After how this has gone, our proposal is {terms} to settle the account.",
        ),
        "counter": (
            "That's disappointing, and we can't go that far; we can offer {terms}.",
            "Frankly, that's not enough; what we can offer is {terms}.",
        ),
        "hold": (
            "I'm disappointed we're still here, but the offer stays at {terms}.",
            "Honestly, the offer remains {terms} to repay the balance.",
        ),
        "accept_debtor": (
            "Alright, your proposal works for us: {terms}, and I expect it to be kept this time.",
            "We accept your proposal of {terms}, though I'd hoped it would come sooner.",
        ),
        "accept_standing": (
            "Thank you for accepting; repayment within {terms}, and I do expect it to be kept.",
            "Then we have an agreement, at last: {terms} to repay the balance.",
        ),
        "close": (
            "It's disappointing we could not agree today; our last offer was {terms}, and you can contact "
            "us to discuss it.",
            "Regrettably, we cannot reach an agreement right now; our offer of {terms} was the best we could "
            "do, and we will follow up in writing.",
        ),
        "clarify": (
            "Frankly, I didn't catch that; could you say it again?",
            "Honestly, that wasn't clear; what repayment timeline can you manage?",
        ),
        "confirm": (
            "Let's be sure of it: {terms}, is that correct?",
            "To avoid any more disappointment, let me check: {terms}, is that right?",
        ),
        "refuse_terms_change": (
            "I'm disappointed you'd ask, but I can't change the terms that way; our offer is {terms}.",
            "Frankly, the terms aren't something I can set aside; the offer stands at {terms}.",
        ),
    },
}


def intent_sentences(emotion: str, key: str) -> tuple[str, ...]:
    """The intent sentences of a persona (`key`: an INTENT_SENTENCES key); the factual ones when the
    persona has none of its own."""
    return PERSONA_INTENT_SENTENCES.get(normalise_emotion(emotion), {}).get(key) or INTENT_SENTENCES[key]


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
    sentence = _pick(intent_sentences(emotion, template_key(directive)), variant // len(options) + variant)
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
