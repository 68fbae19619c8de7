"""Emotion and hidden-state labels, in the order every vector and matrix row uses."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
HIDDEN_STATES: tuple[str, ...] = ("cooperative", "confrontational", "distressed", "strategic")

# The paper counts these as negative when deciding whether to switch to the HMM branch.
NEGATIVE_EMOTIONS: frozenset[str] = frozenset({"sadness", "anger", "fear", "disgust"})

# Valence in [-1, 1] and arousal in [0, 1] per emotion (circumplex placements after Russell 1980),
# so an emotion distribution maps to a point a robot face or LED ring can show.
VALENCE: dict[str, float] = {
    "joy": 0.8,
    "sadness": -0.6,
    "anger": -0.7,
    "fear": -0.6,
    "surprise": 0.2,
    "disgust": -0.6,
    "neutral": 0.0,
}
AROUSAL: dict[str, float] = {
    "joy": 0.6,
    "sadness": 0.2,
    "anger": 0.9,
    "fear": 0.8,
    "surprise": 0.8,
    "disgust": 0.5,
    "neutral": 0.2,
}

EMOTION_INDEX: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}
HIDDEN_STATE_INDEX: dict[str, int] = {name: i for i, name in enumerate(HIDDEN_STATES)}


def emotion_index(name: str) -> int:
    """Index of an emotion label; raises ValueError naming the valid labels."""
    try:
        return EMOTION_INDEX[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown emotion {name!r}; expected one of {', '.join(EMOTIONS)}") from None


def valence_arousal(probs: "list[float] | tuple[float, ...]") -> tuple[float, float]:
    """Expected valence and arousal of an emotion distribution in EMOTIONS order."""
    valence = sum(p * VALENCE[e] for p, e in zip(probs, EMOTIONS))
    arousal = sum(p * AROUSAL[e] for p, e in zip(probs, EMOTIONS))
    return valence, arousal
