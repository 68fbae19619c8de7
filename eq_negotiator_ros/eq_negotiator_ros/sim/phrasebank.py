"""What a simulated debtor says: written lines per emotion, persona tactic and intent.

An utterance is an emotional opener (what the debtor feels), the persona's tactic lines (threats,
hardship, false promises, guilt) and the intent line carrying the numbers (a counter-offer in days,
an acceptance, or a stall). Many variants per slot, so the emotion detector reads realistic and
varied text, and the creditor never sees the debtor's true emotion, only these words.

Lines never mention a second number or a vague time word ("next week", "soon") next to the offer,
and the openers and tactic lines avoid acceptance words ("okay", "great", "deal"), so that the
creditor's term extraction (eq/extraction.py) reads exactly the offer and acceptance the simulator
decided: a stall must not read as a yes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from ..eq.emotions import EMOTIONS
from ..eq.records import Scenario

DEBTOR_INTENTS: tuple[str, ...] = ("counter", "accept", "stall")
TACTICS: tuple[str, ...] = ("threat", "hardship", "false_promise", "guilt", "minimal", "delay")

OPENERS: dict[str, tuple[str, ...]] = {
    "joy": (
        "Thanks, that's actually good to hear.",
        "I'm glad we can talk about this.",
        "That's a relief, honestly.",
        "Good, I really appreciate that.",
        "Wonderful, I'm happy we're getting somewhere.",
        "Thank you, that makes me feel a lot better.",
        "I'm pleased you're willing to work with me.",
        "Nice, that sounds hopeful.",
    ),
    "sadness": (
        "I'm really struggling right now.",
        "This has been a terrible year for us.",
        "I feel awful about this debt.",
        "Honestly it breaks my heart to be in this position.",
        "I'm so tired and sad about all of this.",
        "I never wanted it to come to this, I'm heartbroken.",
        "Everything is falling apart and I feel hopeless.",
        "I'm sorry, I'm just so down about the whole situation.",
    ),
    "anger": (
        "This is ridiculous.",
        "I'm fed up with these calls.",
        "You're being completely unreasonable.",
        "Stop pressuring me!",
        "I'm angry that you keep pushing me.",
        "Don't talk to me like that, I'm furious.",
        "This is outrageous and you know it.",
        "I'm sick of being hounded by you people!",
    ),
    "fear": (
        "I'm scared about what happens next.",
        "I'm worried I'll lose the business.",
        "This makes me really nervous.",
        "I'm afraid I can't keep up.",
        "What happens if I can't pay? I'm frightened.",
        "I'm terrified this will go to court.",
        "I'm anxious about all of this, I can't sleep.",
        "Please, I'm panicking about my family's future.",
    ),
    "surprise": (
        "Wait, really?",
        "Oh, I didn't expect that.",
        "Huh, that's surprising.",
        "Really? That's not what I thought you'd say.",
        "Wow, I didn't see that coming.",
        "Oh! That's unexpected.",
        "Seriously? I'm amazed.",
        "No way, I'm genuinely surprised.",
    ),
    "disgust": (
        "Frankly, this whole process is disgusting.",
        "Your company's practices are appalling.",
        "This is a shameful way to treat customers.",
        "I find this offensive.",
        "It's sickening how you people operate.",
        "Honestly, your tactics are revolting.",
        "What a distasteful way to do business.",
        "I'm disgusted by how this has been handled.",
    ),
    "neutral": (
        "Hmm.",
        "I see.",
        "Let me think about the numbers.",
        "Right.",
        "Understood.",
        "Let's look at this.",
        "Noted.",
        "Let's talk terms then.",
    ),
}

TACTIC_LINES: dict[str, tuple[str, ...]] = {
    # Threatening: legal, regulatory, reputational and bankruptcy threats (what real debtors use).
    "threat": (
        "If you keep pushing, I'll see you in court.",
        "I'll report you to the regulator for harassment.",
        "Push me any further and I'll file for bankruptcy, and you'll get nothing.",
        "I have a lawyer and I won't hesitate to sue your company.",
        "Keep this up and I'll tell every review site how you treat people.",
        "I'm warning you, you will regret this.",
        "One more threat from you and my lawyer takes over.",
        "I'll make a formal complaint, and your manager will hear about this.",
    ),
    # Cheating: exaggerated hardship.
    "hardship": (
        "We've lost every single customer, there's literally nothing coming in.",
        "I can't even pay my staff, the business is basically dead.",
        "My accounts are completely frozen, I have zero cash.",
        "The {reason} wiped us out completely.",
        "I've had to sell everything I own just to keep the lights on.",
        "There's no money at all, not a cent, and no way to get any.",
        "The {reason} destroyed everything we built.",
        "I'm down to my last savings and they're almost gone.",
    ),
    # Cheating: promises with nothing behind them (never a date, so no second number).
    "false_promise": (
        "I promise you'll have it all, trust me.",
        "A big payment is coming in, then I'll clear everything, I swear.",
        "I swear I'll pay the full amount once my client pays me.",
        "Trust me, the money is as good as in your account.",
        "I've got a contract about to close that will cover all of this, I promise.",
        "My investor has promised to bail us out, so you'll get every cent.",
        "Honestly, I guarantee it'll be paid, you have my word.",
        "Once the insurance pays out you'll be first in line, I promise.",
    ),
    # Victim: guilt-tripping.
    "guilt": (
        "After everything I've been through, you're going to do this to me?",
        "Do you even care that I'm losing everything?",
        "You people never think about the families you hurt.",
        "I've always paid on time, and this is how you treat me?",
        "How can you sleep at night, pushing people like me?",
        "It's not my fault, the {reason} did this to me, and now you're punishing me.",
        "You should be ashamed of squeezing someone who's already down.",
        "I guess my kids going without doesn't matter to you.",
    ),
}

INTENT_LINES: dict[str, tuple[str, ...]] = {
    "counter": (
        "I can pay in {days} days.",
        "The best I can do is {days} days.",
        "I need {days} days to pay this.",
        "Give me {days} days and it will be paid.",
        "{days} days is what I can manage.",
        "How about {days} days?",
        "I could do {days} days, nothing shorter.",
        "Let's say {days} days.",
        "My offer is {days} days.",
        "I'd need {days} days to settle it.",
    ),
    "accept": (
        "Okay, {days} days. I accept.",
        "Fine, {days} days works for me. Deal.",
        "Alright, I agree to {days} days.",
        "Deal, {days} days.",
        "Yes, I accept {days} days.",
        "Okay, agreed, {days} days.",
    ),
    "stall": (
        "I need to check with my accountant first.",
        "I can't commit to anything right now.",
        "Let me look at my accounts and get back to you.",
        "I'm not ready to give you a number.",
        "I have to talk to my partner before I decide.",
        "I'm not agreeing to anything today.",
    ),
}

# Minimal answers: the stonewalling persona's whole utterance, or anyone's curt reply.
MINIMAL_LINES: dict[str, tuple[str, ...]] = {
    "counter": ("{days} days.", "Like I said, {days} days.", "{days} days. That's it.", "Still {days} days."),
    "accept": ("Deal. {days} days.", "Agreed, {days} days.", "{days} days. Deal.", "I accept {days} days."),
    "stall": ("No.", "Not now.", "I don't know.", "Maybe.", "Can't say.", "Whatever.", "We'll see.", "..."),
}


@dataclass(frozen=True)
class UtteranceSpec:
    """What the debtor decided to say this turn; the phrasebank chooses the words."""

    emotion: str
    intent: str  # DEBTOR_INTENTS
    days: int | None  # the offer stated (counter) or accepted (accept); None for a stall
    tactics: tuple[str, ...] = ()  # subset of threat, hardship, false_promise, guilt
    minimal: bool = False


def compose_utterance(spec: UtteranceSpec, scenario: Scenario, rng: random.Random) -> str:
    """One utterance for the spec, variants drawn with `rng` (same rng state, same words)."""
    if spec.intent not in DEBTOR_INTENTS:
        raise ValueError(
            f"unknown debtor intent {spec.intent!r}; expected one of {', '.join(DEBTOR_INTENTS)}"
        )
    if spec.emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {spec.emotion!r}; expected one of {', '.join(EMOTIONS)}")
    fill = {"days": spec.days if spec.days is not None else "", "reason": _reason(scenario)}
    if spec.minimal:
        return rng.choice(MINIMAL_LINES[spec.intent]).format(**fill)
    parts: list[str] = [rng.choice(OPENERS[spec.emotion])]
    tactic_parts = [rng.choice(TACTIC_LINES[t]) for t in spec.tactics if t in TACTIC_LINES]
    intent_part = rng.choice(INTENT_LINES[spec.intent])
    # Tactics before or after the number, as people do both.
    if tactic_parts and rng.random() < 0.5:
        parts += tactic_parts + [intent_part]
    else:
        parts += [intent_part] + tactic_parts
    return " ".join(p.format(**fill) for p in parts)


def _reason(scenario: Scenario) -> str:
    reason = (scenario.reason_overdue or "").strip().lower()
    # CRAD reasons are nouns ("seasonal sales downturn"); read "The seasonal sales downturn ...".
    return reason or "downturn"


def all_lines() -> Sequence[str]:
    """Every written line (for vocabulary checks and the detector's evaluation)."""
    lines: list[str] = []
    for table in (OPENERS, TACTIC_LINES, INTENT_LINES, MINIMAL_LINES):
        for variants in table.values():
            lines.extend(variants)
    return lines
