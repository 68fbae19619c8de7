"""How each creditor persona acknowledges what the person said (see DATA_CARD.md).

The parts hold one set of acknowledgments per fact, written once for every persona. Shared, they
made the persona's weakest sentence: "I'm sorry you were let go" is the empathetic persona's
voice whoever the policy chose, "Thanks for telling me" the warm one's, and a plain "I hear..."
nobody's. Here the same content is put in each persona's own voice:

- a fact's acknowledgments of the form "I hear (that) <what they said>" (also "I understand",
  "I'm sorry", "You say") give the clause, the person's own words as second-person
  content ("your hours at the warehouse were cut"); `PERSONA_ACK_FRAMES` say it the way each
  persona would (firm, cautious, curious, ...). The clause is the only content, so a framed
  acknowledgment states no more than the one it came from;
- acknowledgments in an empathetic register ("sorry", "painful") are the sadness persona's, those
  in a grateful one ("thanks", "glad") the joy persona's; the other personas take the fact's
  other acknowledgments, or all of them when a fact has nothing else (an agreement is thanked
  by everyone).

Frames were written from the persona definitions of llm/personas.py, apart from the benchmark's
persona judge and its lines (persona_lines.py).
"""

from __future__ import annotations

import random
import re

# Share of acknowledgments said through a persona frame when the fact has a clause to frame.
FRAME_SHARE = 0.7

CLAUSE = re.compile(
    r"^(?:I hear|I understand|I'm sorry|You say) (?:that )?"
    r"(?P<clause>(?:you|your|the|there|a|an|it)\b[^,;!?]*)\.$"
)
# A clause of fewer words is a fragment ("a no", "your proposal"), not something the person said.
MIN_CLAUSE_WORDS = 3

EMPATHETIC = re.compile(r"\b(?:sorry|painful|terrible|must)\b", re.I)
GRATEFUL = re.compile(r"\b(?:thanks?|thank you|appreciate|glad|good)\b", re.I)

# {clause}: the person's words in the second person, lower case, no final stop. One sentence each:
# the model's part is an acknowledgment and a persona sentence, and a two-sentence acknowledgment
# crowds the persona sentence out of the reply's sentence budget (llm.max_reply_sentences).
PERSONA_ACK_FRAMES: dict[str, tuple[str, ...]] = {
    "joy": (
        "Thank you for telling me {clause}.",
        "I'm glad you told me {clause}.",
        "Thanks so much for letting me know {clause}.",
    ),
    "sadness": (
        "I'm listening, and I understand that {clause}.",
        "I hear you, and I take it to heart that {clause}.",
    ),
    "anger": (
        "I get that {clause}, but I need you to hear me now.",
        "I understand {clause}, and my position stays firm.",
        "I hear that {clause}, but this can't keep waiting.",
    ),
    "fear": (
        "I'm a little worried to hear {clause}.",
        "It concerns me that {clause}.",
        "I want to be careful here, since {clause}.",
    ),
    "surprise": (
        "Oh, I didn't know that {clause}!",
        "Oh, I had no idea {clause}!",
        "Well, I hadn't realised {clause}!",
    ),
    "disgust": (
        "I see that {clause}, though I'd hoped we'd be further along by now.",
        "So {clause}, and frankly I'd hoped for better on this account.",
        "I note that {clause}, but it's disappointing the account is still behind.",
    ),
    "neutral": (
        "I note that {clause}.",
        "Noted: {clause}.",
        "Understood, {clause}.",
    ),
}

# Said only of hard news (a plan or a promise is not something to be sorry about).
HARD_NEWS_TACTICS = ("hardship", "guilt")
HARD_NEWS_FRAMES: dict[str, tuple[str, ...]] = {
    "sadness": ("I'm sorry to hear {clause}.", "It's hard to hear {clause}.")
}

# Surprise at how someone feels ("Oh, I had no idea you're upset!") sounds like mockery, and
# disappointment next to hard news ("So your wife is in hospital, and I'd hoped for better") is cold.
FRAMES_NOT_FOR: dict[str, tuple[str, ...]] = {
    "surprise": ("threat", "abuse", "minimal", "guilt"),
    "disgust": HARD_NEWS_TACTICS,
}

# Which personas an acknowledgment in a marked register belongs to.
REGISTER_OWNERS = {"empathetic": ("sadness",), "grateful": ("joy",)}


def clause_of(acknowledgment: str) -> str | None:
    """The person's words inside a plain acknowledgment, or None when it has no such form."""
    match = CLAUSE.match(acknowledgment)
    if match is None or len(match["clause"].split()) < MIN_CLAUSE_WORDS:
        return None
    return match["clause"]


def register_of(acknowledgment: str) -> str:
    """'empathetic', 'grateful' or 'plain'."""
    if EMPATHETIC.search(acknowledgment):
        return "empathetic"
    return "grateful" if GRATEFUL.search(acknowledgment) else "plain"


def fits(acknowledgment: str, emotion: str) -> bool:
    """Whether a persona says this acknowledgment as written."""
    register = register_of(acknowledgment)
    return register == "plain" or emotion in REGISTER_OWNERS[register]


def voice_acknowledgment(
    drawn: str, acknowledgments: list[str], emotion: str, tactic: str, rng: random.Random
) -> str:
    """An acknowledgment of one fact (templates with {slot}s) in the voice of `emotion`: a persona
    frame around one of its clauses, else `drawn` (one of `acknowledgments`) if the persona says it
    as written, else another of them that it does."""
    clauses = [clause for ack in acknowledgments if (clause := clause_of(ack))]
    framed = clauses and tactic not in FRAMES_NOT_FOR.get(emotion, ())
    if framed and rng.random() < FRAME_SHARE:
        frames = PERSONA_ACK_FRAMES[emotion]
        if tactic in HARD_NEWS_TACTICS:
            frames += HARD_NEWS_FRAMES.get(emotion, ())
        return rng.choice(frames).format(clause=rng.choice(clauses))
    if fits(drawn, emotion):
        return drawn
    own = [ack for ack in acknowledgments if fits(ack, emotion)]
    return rng.choice(own) if own else drawn
