"""The creditor's voice for each emotion the policy can choose (arXiv 2511.03370, emotion -> persona).

Two forms per emotion: `persona_text` (a sentence for the prompt header and the Directive that
travels over ROS) and `persona_tag` (two or three words for the transcript's speaker label,
"Agent (calm, firm):", which is what a small base model imitates best).

`persona_opener` gives the short interjection that starts every model-phrased reply: it is code,
so it is spoken at once while the model writes the acknowledgment (llm/phrasing.py), and the
prompt ends with it so that the model continues in the same voice (llm/prompts.py).
"""

from __future__ import annotations

from ..eq.emotions import EMOTIONS

PERSONAS: dict[str, str] = {
    "joy": "optimistic and warm: friendly, encouraging, looks forward to a solution together",
    "sadness": "empathetic: acknowledges the debtor's hardship and speaks gently, without giving in",
    "anger": "firm and assertive: states clear boundaries and the terms plainly, never hostile or rude",
    "fear": "cautious: explains the consequences of not paying factually and calmly, never threatening",
    "surprise": "engaging: curious and open, suggests creative options within the terms",
    "disgust": "disappointed but professional: notes the missed payments, stays courteous",
    "neutral": "balanced and factual: clear, polite and to the point",
}

PERSONA_TAGS: dict[str, str] = {
    "joy": "warm, upbeat",
    "sadness": "gentle, understanding",
    "anger": "firm, clear",
    "fear": "careful, serious",
    "surprise": "curious, open",
    "disgust": "disappointed, polite",
    "neutral": "calm, factual",
}


def normalise_emotion(emotion: object) -> str:
    """A known emotion label, or "neutral" for anything else (a persona must always exist)."""
    label = emotion.strip().lower() if isinstance(emotion, str) else ""
    return label if label in EMOTIONS else "neutral"


def persona_text(emotion: str) -> str:
    """Persona of the creditor for an emotion label; an unknown label gets the neutral persona."""
    return PERSONAS[normalise_emotion(emotion)]


def persona_tag(emotion: str) -> str:
    """Short tone words for the transcript speaker label."""
    return PERSONA_TAGS[normalise_emotion(emotion)]


# Short openers, spoken before the model has written anything: a word or two in the persona's
# voice that fits any debtor line (they promise nothing and name no fact). Several per emotion so
# that consecutive turns do not start alike, and none shared between the negotiating openers of two
# personas: the first words the person hears already carry the voice (a firm "Let me be clear."
# where a bare "Noted." is the factual persona's). Thanks, while negotiating, are the warm persona's
# register (as in the reply corpus's acknowledgments, data/reply_corpus/ack_voices.py).
# "closing" opens an agreement; "no_deal" the end of a call without one, where a celebrating
# "Wonderful." or "Oh, good." would mock the person ("Go to hell." -> "Oh, good.").
PERSONA_OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "joy": {
        "negotiate": (
            "Thanks for that!",
            "Sure thing.",
            "Thanks for telling me!",
            "Okay, thanks!",
            "Happy to talk.",
        ),
        "closing": ("Wonderful.", "Great.", "Lovely."),
        "no_deal": ("Okay, thanks anyway.", "Alright, thank you.", "Thanks for talking it through."),
        "greet": ("Hi there!", "Hello!"),
    },
    "sadness": {
        "negotiate": ("Oh, I see.", "I hear you.", "Oh, I'm sorry.", "Mm, I understand.", "I'm so sorry."),
        "closing": ("Oh, okay.", "I understand.", "Thank you, truly."),
        "no_deal": ("Oh, I see.", "I understand.", "Oh, I'm sorry."),
        "greet": ("Hello.", "Hi."),
    },
    "anger": {
        "negotiate": ("Let me be clear.", "Listen.", "I'll be blunt.", "Now, look.", "Let's be straight."),
        "closing": ("Very well, then.", "So be it.", "Right, that's that."),
        "no_deal": ("Very well, then.", "So be it.", "Right, that's that."),
        "greet": ("Let's get to it.", "I'll be brief."),
    },
    "fear": {
        "negotiate": (
            "Oh, alright.",
            "Okay, carefully now.",
            "Ah, I see.",
            "Oh, okay then.",
            "Let's be careful.",
        ),
        "closing": ("Oh, alright.", "Alright, then.", "Okay, well."),
        "no_deal": ("Oh, alright.", "Alright, then.", "Okay, well."),
        "greet": ("Hello.", "Hello there."),
    },
    "surprise": {
        "negotiate": ("Oh!", "Oh, I see!", "Well now.", "Huh, okay.", "Oh, okay!"),
        "closing": ("Well!", "Oh, good.", "Oh!"),
        "no_deal": ("Oh, well.", "Huh, alright.", "Well, well."),
        "greet": ("Oh, hello!", "Hi there!"),
    },
    "disgust": {
        "negotiate": ("Well, honestly.", "Frankly.", "Well, really.", "Oh dear, well.", "Oh, honestly."),
        "closing": ("Well, if we must.", "Well, alright then.", "Fine, then."),
        "no_deal": ("Well, if we must.", "Well, alright then.", "Fine, then."),
        "greet": ("Well, hello.", "Hello, then."),
    },
    "neutral": {
        "negotiate": ("Okay.", "I see.", "Alright.", "Understood.", "Noted."),
        "closing": ("Thank you.", "Alright.", "Okay."),
        "no_deal": ("Thank you.", "Alright.", "Okay."),
        "greet": ("Hello.", "Good day."),
    },
}


def opener_group(intent: str) -> str:
    """Which opener list an intent takes: greeting, agreement (accept), the end of a call without
    one (close) or negotiating."""
    if intent == "greet":
        return "greet"
    if intent == "close":
        return "no_deal"
    return "closing" if intent == "accept" else "negotiate"


def persona_opener(emotion: str, intent: str, variant: int) -> str:
    """The short opener for a persona and intent; `variant` (the turn) picks among several."""
    options = PERSONA_OPENERS[normalise_emotion(emotion)][opener_group(intent)]
    return options[max(0, int(variant)) % len(options)]
