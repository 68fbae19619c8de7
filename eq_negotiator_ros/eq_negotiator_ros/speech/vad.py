"""Streaming utterance segmentation with Silero VAD (the ONNX model bundled in faster-whisper).

faster-whisper's `get_speech_timestamps` needs the whole recording; a robot hears an open-ended
stream and must decide, within `min_silence_ms` of the debtor falling silent, that the utterance
is over so the reply can start. `UtteranceSegmenter` runs the same model window by window (512
samples = 32 ms at 16 kHz, 64 samples of left context, LSTM state carried between calls: the same
numbers faster-whisper's batch run produces) and applies the same hysteresis (speech above
`threshold`, silence below `threshold - 0.15`), keeping only a bounded amount of audio:
`speech_pad_ms` of pre-roll while idle, at most `max_utterance_s` while in speech.

A monologue longer than `max_utterance_s` is cut into pieces, each recognised and published on
its own. A cut at a fixed length falls mid-word and mid-sentence, so the cut goes to the longest
pause (a run of windows the model scores below `threshold`) in the last `cut_search_fraction` of the
piece: between sentences, or at least between words. Only when that stretch holds no pause at all
is the piece cut at the limit. The pieces follow each other sample for sample: nothing is lost or
heard twice.

Speculative end of turn (`push_events`): most of the delay after a person stops talking is the wait
for `min_silence_ms` of silence and then recognition. When the silence reaches
`speculative_silence_ms` (shorter), a TENTATIVE event hands out the utterance as it would end there,
so recognition can start; if the silence goes on to `min_silence_ms`, the FINAL event carries the
same samples and says it confirms the tentative one (the recognised text can be published at once);
if the person goes on talking, a DISCARD event withdraws it. `push` returns only the finals.

Only audio at 16 kHz is accepted (the model's rate); resample with speech.audio.resample first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ..config import AsrConfig
from .audio import to_float32_mono

VAD_SAMPLE_RATE_HZ = 16000
WINDOW_SAMPLES = 512  # Silero v6 at 16 kHz works on 32 ms windows
CONTEXT_SAMPLES = 64  # ... each preceded by the last 64 samples of the window before
STATE_SHAPE = (1, 1, 128)
# Below threshold - this counts as silence; in between keeps the current state (faster-whisper's
# neg_threshold default), so a word's soft ending does not end the utterance.
NEGATIVE_THRESHOLD_GAP = 0.15


@dataclass(frozen=True)
class VadSettings:
    """What the segmenter needs, in the units of config/negotiator.yaml's `asr` section."""

    threshold: float = 0.5
    min_silence_ms: int = 500
    min_speech_ms: int = 250
    max_utterance_s: float = 30.0
    speech_pad_ms: int = 200
    cut_search_fraction: float = 0.5
    speculative_silence_ms: int = 0  # 0 = no tentative ends (push_events)
    sample_rate_hz: int = VAD_SAMPLE_RATE_HZ

    @classmethod
    def from_config(cls, asr: AsrConfig, sample_rate_hz: int = VAD_SAMPLE_RATE_HZ) -> "VadSettings":
        return cls(
            threshold=asr.vad_threshold,
            min_silence_ms=asr.min_silence_ms,
            min_speech_ms=asr.min_speech_ms,
            max_utterance_s=asr.max_utterance_s,
            speech_pad_ms=asr.speech_pad_ms,
            cut_search_fraction=asr.cut_search_fraction,
            speculative_silence_ms=asr.speculative_silence_ms,
            sample_rate_hz=sample_rate_hz,
        )

    def __post_init__(self) -> None:
        if self.sample_rate_hz != VAD_SAMPLE_RATE_HZ:
            raise ValueError(
                f"the Silero VAD runs at {VAD_SAMPLE_RATE_HZ} Hz, got sample_rate_hz="
                f"{self.sample_rate_hz}; resample the audio (speech.audio.resample) or set "
                f"audio.sample_rate_hz to {VAD_SAMPLE_RATE_HZ}"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"asr.vad_threshold must be between 0 and 1, got {self.threshold}")
        if self.min_silence_ms <= 0 or self.min_speech_ms < 0 or self.speech_pad_ms < 0:
            raise ValueError(
                "asr.min_silence_ms must be > 0; asr.min_speech_ms and the speech pad must be >= 0"
            )
        if self.speculative_silence_ms and not 0 < self.speculative_silence_ms < self.min_silence_ms:
            raise ValueError(
                f"asr.speculative_silence_ms ({self.speculative_silence_ms}) must be 0 (off) or between 0 "
                f"and asr.min_silence_ms ({self.min_silence_ms}): it starts recognition before the end "
                f"of the turn is confirmed"
            )
        if not 0.0 < self.cut_search_fraction <= 1.0:
            raise ValueError(f"asr.cut_search_fraction must be > 0 and <= 1, got {self.cut_search_fraction}")
        if self.max_utterance_s * 1000.0 <= self.min_speech_ms + 2 * self.speech_pad_ms:
            raise ValueError(
                f"asr.max_utterance_s ({self.max_utterance_s}) is too short for "
                f"asr.min_speech_ms ({self.min_speech_ms}); raise it"
            )


@dataclass(frozen=True, eq=False)
class SpeechSegment:
    """One utterance cut from the stream. Times are seconds since the segmenter started (or reset)."""

    samples: np.ndarray = field(repr=False)  # float32 mono at 16 kHz, speech_pad_ms either side
    start_s: float
    end_s: float
    end_of_speech_detected_at_s: float  # stream time when the end was decided (latency = this - end_s)
    cut_at_max_length: bool = False  # True when max_utterance_s forced the cut (at a pause), not a silence

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "end_of_speech_detected_at_s": self.end_of_speech_detected_at_s,
            "cut_at_max_length": self.cut_at_max_length,
            "duration_s": self.duration_s,
        }


TENTATIVE = "tentative"  # the silence reached speculative_silence_ms: the utterance if it ended here
DISCARD = "discard"  # the person went on talking: the tentative utterance is withdrawn
FINAL = "final"  # the utterance is over (min_silence_ms of silence, a cut at max length, or flush)


@dataclass(frozen=True, eq=False)
class SegmentEvent:
    """What push_events reports. A FINAL that `confirms_tentative` has exactly the samples of the
    TENTATIVE before it (what was recognised from those can be used as it is)."""

    kind: str
    segment: Optional[SpeechSegment] = None  # None for DISCARD
    confirms_tentative: bool = False


def load_silero_session() -> Any:
    """The Silero VAD ONNX session that faster-whisper ships (cached by faster-whisper)."""
    from faster_whisper.vad import get_vad_model

    return get_vad_model().session


class UtteranceSegmenter:
    """push() audio as it arrives; get back each utterance once its trailing silence is long enough.

    Memory is bounded: idle, it keeps `speech_pad_ms` of audio; in speech, at most
    `max_utterance_s` (a longer monologue is cut at its longest pause before that limit and
    continues as the next utterance).
    """

    def __init__(self, settings: VadSettings | AsrConfig | None = None, session: Any | None = None) -> None:
        if settings is None:
            settings = VadSettings()
        elif isinstance(settings, AsrConfig):
            settings = VadSettings.from_config(settings)
        self.settings = settings
        self._session = session if session is not None else load_silero_session()
        rate = settings.sample_rate_hz
        self._neg_threshold = max(settings.threshold - NEGATIVE_THRESHOLD_GAP, 0.01)
        self._pad_samples = int(rate * settings.speech_pad_ms / 1000)
        self._min_silence_samples = int(rate * settings.min_silence_ms / 1000)
        self._min_speech_samples = int(rate * settings.min_speech_ms / 1000)
        self._max_samples = int(rate * settings.max_utterance_s)
        self._cut_search_samples = int(self._max_samples * settings.cut_search_fraction)
        # A tentative end needs the pad after the speech as well, so its samples are those a
        # confirmed end has.
        self._speculative_samples = (
            max(int(rate * settings.speculative_silence_ms / 1000), self._pad_samples)
            if settings.speculative_silence_ms
            else 0
        )
        self.reset()

    # -- state ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (e.g. after the robot spoke, so its own voice is not segmented)."""
        self._h = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)  # < one window, not yet scored
        self._processed = 0  # samples scored since reset (stream clock)
        # Audio kept (pre-roll or the utterance) as a list of windows, joined only when an
        # utterance is emitted: appending to one array would copy it at every window.
        self._windows: list[np.ndarray] = []
        self._buffer_size = 0
        self._buffer_start = 0  # stream index of the first kept sample
        self._triggered = False
        self._speech_start = 0  # first speech window of the current utterance
        self._silence_start = 0  # start of the silence run inside speech (0 = none)
        self._last_probability = 0.0
        self._tentative_end: Optional[int] = None  # speech end of the tentative utterance out now
        self._events: list[SegmentEvent] = []  # TENTATIVE/DISCARD events of the current push
        # (stream index, speech probability) of each window of the current utterance: where its
        # pauses are, should it have to be cut. At most max_utterance_s of windows.
        self._window_probabilities: list[tuple[int, float]] = []

    @property
    def in_speech(self) -> bool:
        return self._triggered

    @property
    def last_speech_probability(self) -> float:
        return self._last_probability

    @property
    def stream_time_s(self) -> float:
        return (self._processed + self._pending.size) / self.settings.sample_rate_hz

    # -- streaming --------------------------------------------------------------------------------

    @property
    def tentative(self) -> bool:
        """A TENTATIVE utterance is out, neither confirmed nor discarded yet."""
        return self._tentative_end is not None

    def push(self, samples: np.ndarray) -> list[SpeechSegment]:
        """Feed audio (any length, float or int16, 16 kHz); returns the utterances completed by it."""
        return [event.segment for event in self.push_events(samples) if event.kind == FINAL]

    def push_events(self, samples: np.ndarray) -> list[SegmentEvent]:
        """Feed audio; returns the TENTATIVE, DISCARD and FINAL events it caused, in order."""
        audio = to_float32_mono(samples)
        if audio.size == 0:
            return []
        self._pending = np.concatenate([self._pending, audio])
        n_windows = self._pending.size // WINDOW_SAMPLES
        if n_windows == 0:
            return []
        scored = self._pending[: n_windows * WINDOW_SAMPLES]
        self._pending = self._pending[n_windows * WINDOW_SAMPLES :].copy()
        probabilities = self._score(scored)
        for i, probability in enumerate(probabilities):
            window = scored[i * WINDOW_SAMPLES : (i + 1) * WINDOW_SAMPLES]
            self._step(window, float(probability))
        events, self._events = self._events, []
        return events

    def flush(self) -> list[SpeechSegment]:
        """End of stream: return the utterance in progress (if it is long enough) and reset."""
        return [event.segment for event in self.flush_events() if event.kind == FINAL]

    def flush_events(self) -> list[SegmentEvent]:
        """End of stream as events (a tentative utterance in progress is confirmed), then reset."""
        if self._pending.size:
            # Score the partial window padded with zeros so its speech is not lost.
            tail = self._pending
            self._pending = np.zeros(0, dtype=np.float32)
            padded = np.concatenate([tail, np.zeros(WINDOW_SAMPLES - tail.size, dtype=np.float32)])
            probability = float(self._score(padded)[0])
            self._step(tail, probability)
        if self._triggered:
            end = self._silence_start or self._processed
            if end - self._speech_start >= self._min_speech_samples:
                self._emit(end, cut=False, extra_pad=bool(self._silence_start))
            elif self._tentative_end is not None:
                self._events.append(SegmentEvent(DISCARD))
        events = self._events
        self.reset()
        return events

    # -- internals -----------------------------------------------------------------------------

    def _score(self, audio: np.ndarray) -> np.ndarray:
        """Speech probability per 512-sample window, carrying context and LSTM state across calls."""
        windows = audio.reshape(-1, WINDOW_SAMPLES)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -CONTEXT_SAMPLES:]], axis=0)
        batch = np.concatenate([contexts, windows], axis=1).astype(np.float32)
        output, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = windows[-1, -CONTEXT_SAMPLES:].copy()
        return np.asarray(output, dtype=np.float32).reshape(-1)[: windows.shape[0]]

    def _append(self, window: np.ndarray) -> None:
        self._windows.append(window)
        self._buffer_size += window.size
        if not self._triggered:
            self._trim_to(self._pad_samples)

    def _trim_to(self, keep_samples: int) -> None:
        """Drop whole windows from the front while at least keep_samples stay."""
        while self._windows and self._buffer_size - self._windows[0].size >= keep_samples:
            dropped = self._windows.pop(0)
            self._buffer_size -= dropped.size
            self._buffer_start += dropped.size

    def _buffer(self) -> np.ndarray:
        if not self._windows:
            return np.zeros(0, dtype=np.float32)
        if len(self._windows) > 1:
            self._windows = [np.concatenate(self._windows)]
        return self._windows[0]

    def _step(self, window: np.ndarray, probability: float) -> None:
        """Score one window into the state; events go to self._events."""
        position = self._processed  # stream index of this window's first sample
        self._processed += window.size
        self._last_probability = probability
        self._append(window)
        settings_threshold = self.settings.threshold
        if not self._triggered:
            if probability >= settings_threshold:
                self._triggered = True
                self._speech_start = position
                self._silence_start = 0
                self._window_probabilities = [(position, probability)]
            return
        self._window_probabilities.append((position, probability))
        if probability >= settings_threshold:
            self._silence_start = 0
            self._withdraw_tentative()  # the person goes on talking
        elif probability < self._neg_threshold and not self._silence_start:
            self._silence_start = position
        silence = self._processed - self._silence_start if self._silence_start else 0
        if self._silence_start and silence >= self._min_silence_samples:
            end = self._silence_start
            if end - self._speech_start >= self._min_speech_samples:
                self._emit(end, cut=False, extra_pad=True)
            else:
                self._drop_utterance()  # a click or cough: too short to be an utterance
            return
        utterance_start = max(self._buffer_start, self._speech_start - self._pad_samples)
        if self._processed - utterance_start >= self._max_samples:
            # The samples after the cut start the next piece.
            self._withdraw_tentative()
            self._emit(self._forced_cut(utterance_start), cut=True, extra_pad=False)
            return
        if (
            self._speculative_samples
            and self._silence_start
            and self._tentative_end is None
            and silence >= self._speculative_samples
            and self._silence_start - self._speech_start >= self._min_speech_samples
        ):
            self._tentative_end = self._silence_start
            self._events.append(SegmentEvent(TENTATIVE, self._segment(self._silence_start, extra_pad=True)))

    def _withdraw_tentative(self) -> None:
        if self._tentative_end is not None:
            self._tentative_end = None
            self._events.append(SegmentEvent(DISCARD))

    def _forced_cut(self, utterance_start: int) -> int:
        """Where to cut an utterance that reached max_utterance_s: the middle of the longest pause
        (latest of equals) among the windows in the last cut_search_fraction before the limit,
        else the limit itself."""
        limit = utterance_start + self._max_samples
        search_from = max(limit - self._cut_search_samples, self._speech_start + self._min_speech_samples)
        threshold = self.settings.threshold
        best: tuple[int, int] | None = None  # (windows, first window's stream index)
        run_start, run_windows = 0, 0
        for position, probability in self._window_probabilities:
            inside = search_from <= position and position + WINDOW_SAMPLES <= limit
            if inside and probability < threshold:
                run_start = position if run_windows == 0 else run_start
                run_windows += 1
                if best is None or run_windows >= best[0]:
                    best = (run_windows, run_start)
            else:
                run_windows = 0
        if best is None:
            return limit
        windows, start = best
        return start + (windows + 1) // 2 * WINDOW_SAMPLES

    def _segment(self, speech_end: int, extra_pad: bool, cut: bool = False) -> SpeechSegment:
        """The utterance [speech_start - pad, speech_end + pad) as it is in the buffer now."""
        rate = self.settings.sample_rate_hz
        start = max(self._buffer_start, self._speech_start - self._pad_samples)
        end = min(self._processed, speech_end + (self._pad_samples if extra_pad else 0))
        buffer = self._buffer()
        return SpeechSegment(
            samples=buffer[start - self._buffer_start : end - self._buffer_start].copy(),
            start_s=start / rate,
            end_s=end / rate,
            end_of_speech_detected_at_s=self._processed / rate,
            cut_at_max_length=cut,
        )

    def _emit(self, speech_end: int, cut: bool, extra_pad: bool) -> SpeechSegment:
        """Cut the utterance out of the buffer and report it as a FINAL event."""
        segment = self._segment(speech_end, extra_pad, cut)
        confirms = self._tentative_end is not None and self._tentative_end == speech_end and not cut
        if self._tentative_end is not None and not confirms:
            self._events.append(SegmentEvent(DISCARD))
        self._tentative_end = None
        self._events.append(SegmentEvent(FINAL, segment, confirms_tentative=confirms))
        end = min(self._processed, speech_end + (self._pad_samples if extra_pad else 0))
        buffer = self._buffer()
        if cut:
            # A monologue goes on: the next utterance starts right here, still in speech.
            rest = buffer[end - self._buffer_start :].copy()
            self._windows = [rest] if rest.size else []
            self._buffer_size = rest.size
            self._buffer_start = end
            self._speech_start = end + self._pad_samples  # no pre-roll before a cut
            # A pause still going on at the cut belongs to the next piece from the cut on; speech
            # resumed after the cut clears it as usual.
            self._silence_start = max(self._silence_start, end) if self._silence_start else 0
            self._window_probabilities = [(i, p) for i, p in self._window_probabilities if i >= end]
        else:
            self._drop_utterance()
        return segment

    def _drop_utterance(self) -> None:
        self._triggered = False
        self._silence_start = 0
        self._window_probabilities = []
        self._trim_to(self._pad_samples)
