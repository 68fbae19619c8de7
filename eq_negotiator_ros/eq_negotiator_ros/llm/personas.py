"""The creditor's voice for each emotion the policy can choose (arXiv 2511.03370, emotion -> persona).

Two forms per emotion: `persona_text` (a sentence for the prompt header and the Directive that
travels over ROS) and `persona_tag` (two or three words for the transcript's speaker label,
"Agent (calm, firm):", which is what a small base model imitates best).
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
