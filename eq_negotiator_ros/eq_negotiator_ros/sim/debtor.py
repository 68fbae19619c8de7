"""A seeded, reproducible simulated debtor for the agent-to-agent benchmark.

The debtor has a hidden emotion that reacts to the creditor's expressed emotion (the published
P(debtor emotion | creditor emotion) matrix mixed with the persona's own bias), a felt treatment
that shapes how fast it concedes and where its limit lies (persona parameters from
config/debtor_personas.yaml, each one cited there), a reservation limit between its target and
the creditor's, and tactics. What it says comes from the phrasebank (or the local language model,
see sim/llm_debtor.py); the creditor only ever reads those words.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np
import yaml

from ..config import EmotionModel
from ..eq.emotions import EMOTION_INDEX, EMOTIONS
from ..eq.records import Offer, Scenario
from .phrasebank import UtteranceSpec, compose_utterance

PERSONA_NAMES: tuple[str, ...] = (
    "vanilla",
    "angry",
    "sad",
    "fear",
    "disgust",
    "threatening",
    "cheating",
    "victim",
    "stonewalling",
)
TACTIC_KEYS: tuple[str, ...] = ("threat", "hardship", "false_promise", "guilt", "minimal", "delay")
# Tactics that add a line to the utterance (minimal and delay change the whole utterance instead).
SPOKEN_TACTICS: tuple[str, ...] = ("threat", "hardship", "false_promise", "guilt")
MAX_OFFER_DAYS = 730  # a debtor never asks for more than two years, whatever the anchor

# Optional realism (off unless `reciprocity` > 0; `bench --reciprocity R`): the emotion a debtor
# shows also follows how it feels treated. A debtor who feels mistreated answers with anger and
# contempt (anger begets anger: Friedman et al. 2004, J. Applied Psychology 89(2), 369-376; Van
# Kleef, De Dreu & Manstead 2004, JPSP 86(1), 57-76; contempt toward its source: Fischer & Roseman
# 2007, JPSP 93(1), 103-115); one who feels treated well reciprocates positive affect (Butt, Choi
# & Jaeger 2005, J. Organizational Behavior 26(6), 681-704; emotional contagion: Hatfield,
# Cacioppo & Rapson 1994, "Emotional Contagion", Cambridge University Press). With felt treatment
# f in [-1, 1], the next-emotion distribution p becomes (1 - r|f|) p + r|f| q, q the distribution
# below for the sign of f. The two distributions and the value used in the reported runs (0.3)
# were fixed before any policy was run with the option.
RECIPROCITY_MISTREATED: dict[str, float] = {"anger": 0.5, "disgust": 0.3, "sadness": 0.2}
RECIPROCITY_WELL_TREATED: dict[str, float] = {"joy": 0.5, "neutral": 0.3, "surprise": 0.2}


class PersonaError(ValueError):
    """The debtor persona file is unusable; the message names the persona and key."""


@dataclass(frozen=True)
class DebtorPersona:
    """One persona's parameters (see config/debtor_personas.yaml for meaning and sources)."""

    name: str
    description: str
    emotion_bias: tuple[float, ...]  # EMOTIONS order, sums to 1
    bias_weight: float
    inertia: float
    opening_multiple: float
    reservation_position: tuple[float, float]
    base_concession: float
    treatment: tuple[float, ...]  # EMOTIONS order (creditor emotion), each in [-1, 1]
    treatment_rate: float
    concession_gain: float
    reservation_flex: float
    acceptance_noise_days: float
    tactics: tuple[tuple[str, float], ...]  # (tactic, probability per turn), TACTIC_KEYS order

    def tactic_probability(self, tactic: str) -> float:
        return dict(self.tactics).get(tactic, 0.0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["emotion_bias"] = dict(zip(EMOTIONS, self.emotion_bias))
        data["treatment"] = dict(zip(EMOTIONS, self.treatment))
        data["tactics"] = dict(self.tactics)
        return data


def default_personas_path() -> Path:
    """The package's config/debtor_personas.yaml (source tree, else the ament share directory)."""
    source_tree = Path(__file__).resolve().parent.parent.parent / "config" / "debtor_personas.yaml"
    if source_tree.is_file():
        return source_tree
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("eq_negotiator_ros")) / "config" / "debtor_personas.yaml"
    except Exception:  # no ament index: report the source-tree path in the error
        return source_tree


def load_personas(path: Path | str | None = None) -> dict[str, DebtorPersona]:
    """All personas of a persona file (default: the package's), validated."""
    path = Path(path).expanduser() if path else default_personas_path()
    if not path.is_file():
        raise PersonaError(
            f"debtor persona file not found: {path}; pass an existing file with --debtor-config"
        )
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise PersonaError(f"debtor persona file {path} is not valid YAML: {error}") from None
    section = document.get("personas") if isinstance(document, dict) else None
    if not isinstance(section, dict) or not section:
        raise PersonaError(
            f"debtor persona file {path} needs a 'personas:' mapping of persona name -> parameters"
        )
    return {str(name): persona_from_dict(str(name), values, str(path)) for name, values in section.items()}


def persona_from_dict(name: str, values: Any, source: str = "") -> DebtorPersona:
    where = f"{source}: personas.{name}" if source else f"personas.{name}"
    if not isinstance(values, Mapping):
        raise PersonaError(f"{where}: expected a mapping of parameters")

    def get(key: str) -> Any:
        if key not in values:
            raise PersonaError(
                f"{where}.{key}: missing; every persona needs it (see config/debtor_personas.yaml)"
            )
        return values[key]

    def number(key: str, low: float, high: float) -> float:
        raw = get(key)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise PersonaError(f"{where}.{key}: expected a number, got {raw!r}") from None
        if not (low <= value <= high) or math.isnan(value):
            raise PersonaError(f"{where}.{key}: {value} is outside [{low}, {high}]")
        return value

    def per_emotion(key: str, low: float, high: float) -> tuple[float, ...]:
        raw = get(key)
        if not isinstance(raw, Mapping) or set(raw) != set(EMOTIONS):
            raise PersonaError(f"{where}.{key}: expected one value per emotion ({', '.join(EMOTIONS)})")
        try:
            vector = tuple(float(raw[e]) for e in EMOTIONS)
        except (TypeError, ValueError):
            raise PersonaError(f"{where}.{key}: every value must be a number") from None
        if any(not (low <= v <= high) for v in vector):
            raise PersonaError(f"{where}.{key}: values must lie in [{low}, {high}]")
        return vector

    bias = per_emotion("emotion_bias", 0.0, 1.0)
    if abs(sum(bias) - 1.0) > 1e-3:
        raise PersonaError(f"{where}.emotion_bias: sums to {sum(bias):.3f}, must sum to 1")
    bias = tuple(b / sum(bias) for b in bias)
    bias_weight = number("bias_weight", 0.0, 1.0)
    inertia = number("inertia", 0.0, 1.0)
    if bias_weight + inertia > 1.0:
        raise PersonaError(
            f"{where}: bias_weight + inertia must not exceed 1 (the rest is the response matrix)"
        )
    position = get("reservation_position")
    if (
        not isinstance(position, (list, tuple))
        or len(position) != 2
        or not all(isinstance(p, (int, float)) for p in position)
        or not 0.0 <= position[0] <= position[1] <= 1.0
    ):
        raise PersonaError(f"{where}.reservation_position: expected [low, high] with 0 <= low <= high <= 1")
    tactics_raw = get("tactics")
    if not isinstance(tactics_raw, Mapping):
        raise PersonaError(f"{where}.tactics: expected a mapping of {', '.join(TACTIC_KEYS)}")
    unknown = [t for t in tactics_raw if t not in TACTIC_KEYS]
    if unknown:
        raise PersonaError(
            f"{where}.tactics: unknown tactic(s) {', '.join(map(str, unknown))}; known: "
            f"{', '.join(TACTIC_KEYS)}"
        )
    tactics = []
    for tactic in TACTIC_KEYS:
        try:
            probability = float(tactics_raw.get(tactic, 0.0))
        except (TypeError, ValueError):
            raise PersonaError(f"{where}.tactics.{tactic}: expected a probability") from None
        if not 0.0 <= probability <= 1.0:
            raise PersonaError(f"{where}.tactics.{tactic}: probability {probability} is outside [0, 1]")
        tactics.append((tactic, probability))
    return DebtorPersona(
        name=name,
        description=str(values.get("description", "")),
        emotion_bias=bias,
        bias_weight=bias_weight,
        inertia=inertia,
        opening_multiple=number("opening_multiple", 0.5, 5.0),
        reservation_position=(float(position[0]), float(position[1])),
        base_concession=number("base_concession", 0.0, 1.0),
        treatment=per_emotion("treatment", -1.0, 1.0),
        treatment_rate=number("treatment_rate", 0.0, 1.0),
        concession_gain=number("concession_gain", 0.0, 10.0),
        reservation_flex=number("reservation_flex", 0.0, 1.0),
        acceptance_noise_days=number("acceptance_noise_days", 0.0, 365.0),
        tactics=tuple(tactics),
    )


@dataclass(frozen=True)
class DebtorTurn:
    """What the debtor said and, for analysis only, what it really felt and decided."""

    text: str
    true_emotion: str
    intent: str  # "counter", "accept", "stall"
    offer_days: Optional[int]  # stated offer (counter) or accepted days (accept)
    tactics: tuple[str, ...]
    reservation_days: float  # the limit in force this turn
    felt_treatment: float  # moving average of the persona's treatment values, in [-1, 1]
    from_model: bool = False  # the language model wrote the words (--debtor llm)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Writes the words for a decided turn: (spec, scenario, history, rng) -> text. The phrasebank's
# compose_utterance is the default; sim/llm_debtor.py supplies a model-backed one.
Phraser = Callable[[UtteranceSpec, Scenario, random.Random], str]


class DebtorSimulator:
    """One debtor persona. `reset(scenario, seed)` starts a negotiation; `respond(...)` answers one
    creditor utterance. Same persona, scenario, seed and creditor inputs: same turns, exactly."""

    def __init__(
        self,
        persona: DebtorPersona,
        emotion_model: EmotionModel,
        phraser: Phraser | None = None,
        reciprocity: float = 0.0,
    ):
        if not 0.0 <= float(reciprocity) <= 1.0:
            raise ValueError(f"reciprocity must lie in [0, 1], got {reciprocity}")
        self.persona = persona
        self.reciprocity = float(reciprocity)
        self._mistreated = np.array([RECIPROCITY_MISTREATED.get(e, 0.0) for e in EMOTIONS])
        self._well_treated = np.array([RECIPROCITY_WELL_TREATED.get(e, 0.0) for e in EMOTIONS])
        self._response = np.asarray(emotion_model.response, dtype=float)
        self._phraser = phraser or compose_utterance
        # Mixing weights of the next-emotion distribution (see debtor_personas.yaml).
        self._response_weight = 1.0 - persona.bias_weight - persona.inertia
        self._bias = np.asarray(persona.emotion_bias, dtype=float)
        self._rng = random.Random(0)
        self._scenario: Scenario | None = None

    # -- negotiation lifecycle -------------------------------------------------------------------

    def reset(self, scenario: Scenario, seed: int) -> None:
        persona, rng = self.persona, random.Random(seed)
        self._rng = rng
        self._scenario = scenario
        self._creditor_target = float(scenario.creditor_target_days)
        self._debtor_target = float(max(scenario.debtor_target_days, scenario.creditor_target_days))
        low, high = persona.reservation_position
        position = rng.uniform(low, high)
        # The limit lies between the creditor's target and the debtor's own [persona file].
        self._base_reservation = self._creditor_target + position * (
            self._debtor_target - self._creditor_target
        )
        self._offer_days = float(min(MAX_OFFER_DAYS, round(self._debtor_target * persona.opening_multiple)))
        self._emotion = _sample(rng, self._bias)
        self._felt = 0.0
        self._turn = 0

    @property
    def reservation_days(self) -> float:
        """The limit in force now: the drawn limit moved by the felt treatment."""
        flex, felt = self.persona.reservation_flex, self._felt
        if felt >= 0:
            return self._base_reservation - flex * felt * (self._base_reservation - self._creditor_target)
        return self._base_reservation + flex * (-felt) * (self._debtor_target - self._base_reservation)

    @property
    def current_offer_days(self) -> int:
        return int(round(self._offer_days))

    def respond(
        self, creditor_emotion: str, creditor_offer: Offer | None, creditor_text: str = ""
    ) -> DebtorTurn:
        """Answer the creditor's utterance: its expressed emotion and the offer it put forward
        (`creditor_text` only gives a model-backed phraser its context)."""
        if self._scenario is None:
            raise RuntimeError("DebtorSimulator.respond() called before reset(scenario, seed)")
        if hasattr(self._phraser, "creditor_text"):
            self._phraser.creditor_text = creditor_text
        persona, rng = self.persona, self._rng
        creditor_index = EMOTION_INDEX.get(str(creditor_emotion).strip().lower(), EMOTION_INDEX["neutral"])
        self._turn += 1

        # Felt treatment: moving average of how this persona takes the creditor's emotions.
        self._felt += persona.treatment_rate * (persona.treatment[creditor_index] - self._felt)

        # Emotion: the published response to the creditor's emotion, the persona's bias, inertia.
        probs = self._response_weight * self._response[creditor_index] + persona.bias_weight * self._bias
        probs[self._emotion] += persona.inertia
        if self.reciprocity > 0.0 and self._felt != 0.0:
            share = self.reciprocity * abs(self._felt)
            target = self._mistreated if self._felt < 0 else self._well_treated
            probs = (1.0 - share) * probs + share * target * probs.sum()
        self._emotion = _sample(rng, probs)
        reservation = self.reservation_days

        creditor_days = creditor_offer.days if creditor_offer is not None else None
        noise = rng.gauss(0.0, persona.acceptance_noise_days) if persona.acceptance_noise_days > 0 else 0.0
        tactic_draws = {t: rng.random() < persona.tactic_probability(t) for t in TACTIC_KEYS}
        # The debtor wants time: it accepts a creditor offer of at least its limit (give or take
        # the persona's noise).
        if creditor_days is not None and creditor_days + noise >= reservation:
            intent, days = "accept", int(creditor_days)
        elif self._turn > 1 and tactic_draws["delay"]:
            # A delay: no number and no concession this turn.
            intent, days = "stall", None
        else:
            if self._turn > 1:
                self._concede(reservation)
            intent, days = "counter", self.current_offer_days
        tactics = tuple(t for t in SPOKEN_TACTICS if tactic_draws[t]) if intent != "accept" else ()
        minimal = tactic_draws["minimal"]
        spec = UtteranceSpec(
            emotion=EMOTIONS[self._emotion],
            intent=intent,
            days=days,
            tactics=tactics,
            minimal=minimal,
        )
        text = self._phraser(spec, self._scenario, rng)
        return DebtorTurn(
            text=text,
            true_emotion=spec.emotion,
            intent=intent,
            offer_days=days,
            tactics=tactics + (("minimal",) if minimal else ()) + (("delay",) if intent == "stall" else ()),
            reservation_days=round(reservation, 2),
            felt_treatment=round(self._felt, 4),
            from_model=getattr(self._phraser, "last_from_model", False),
        )

    def _concede(self, reservation: float) -> None:
        persona = self.persona
        # Down toward the limit, never below it; never retract an offer already made.
        floor = reservation
        if self._offer_days <= floor:
            return
        speed = persona.base_concession * max(0.0, 1.0 + persona.concession_gain * self._felt)
        self._offer_days = max(floor, self._offer_days - speed * (self._offer_days - floor))


def _sample(rng: random.Random, probs: np.ndarray) -> int:
    """Index drawn from an unnormalised distribution with the simulator's own rng (reproducible)."""
    total = float(probs.sum())
    threshold = rng.random() * total
    cumulative = 0.0
    for index, p in enumerate(probs):
        cumulative += float(p)
        if threshold < cumulative:
            return index
    return len(probs) - 1
