"""speech/vad.py: the speculative end of turn (TENTATIVE, DISCARD, FINAL events), on synthetic
speech and pause patterns scored by a stand-in model (loud = speech), so every pause length is exact."""

from __future__ import annotations

import numpy as np
import pytest

from eq_negotiator_ros.config import AsrConfig
from eq_negotiator_ros.speech.audio import iter_chunks
from eq_negotiator_ros.speech.vad import (
    DISCARD,
    FINAL,
    TENTATIVE,
    SegmentEvent,
    UtteranceSegmenter,
    VadSettings,
)

RATE_HZ = 16000


class _LoudnessIsSpeech:
    """A window is speech when it is loud (probability 0.95), else silence (0.02)."""

    def run(self, _outputs, feeds):
        windows = feeds["input"][:, -512:]
        loud = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1)) > 0.01
        return np.where(loud, 0.95, 0.02).astype(np.float32)[:, None], feeds["h"], feeds["c"]


def _pattern(*parts: tuple[str, float]) -> np.ndarray:
    rng = np.random.default_rng(7)
    pieces = []
    for kind, seconds in parts:
        n = int(round(seconds * RATE_HZ))
        noise = np.clip(rng.standard_normal(n) * 0.2, -0.9, 0.9).astype(np.float32)
        pieces.append(noise if kind == "speech" else np.zeros(n, np.float32))
    return np.concatenate(pieces)


def _segmenter(speculative_ms: int = 200, min_silence_ms: int = 500) -> UtteranceSegmenter:
    settings = VadSettings(min_silence_ms=min_silence_ms, speculative_silence_ms=speculative_ms)
    return UtteranceSegmenter(settings, session=_LoudnessIsSpeech())


def _events(segmenter: UtteranceSegmenter, audio: np.ndarray, chunk_ms: int = 100) -> list[SegmentEvent]:
    events: list[SegmentEvent] = []
    for piece in iter_chunks(audio, RATE_HZ, chunk_ms):
        events += segmenter.push_events(piece)
    return events + segmenter.flush_events()


def test_a_short_silence_gives_a_tentative_end_that_the_long_silence_confirms() -> None:
    audio = _pattern(("pause", 0.3), ("speech", 2.0), ("pause", 1.0))
    segmenter = _segmenter()
    tentative_at = None
    events: list[SegmentEvent] = []
    for index, piece in enumerate(iter_chunks(audio, RATE_HZ, 100)):
        new = segmenter.push_events(piece)
        if any(e.kind == TENTATIVE for e in new):
            tentative_at = (index + 1) * 0.1
        events += new
    assert [e.kind for e in events] == [TENTATIVE, FINAL]
    tentative, final = events
    assert final.confirms_tentative
    # The same utterance, sample for sample: its recognition can be published as it is.
    assert tentative.segment.start_s == final.segment.start_s
    assert tentative.segment.end_s == final.segment.end_s
    np.testing.assert_array_equal(tentative.segment.samples, final.segment.samples)
    # Tentative after ~200 ms of silence (speech ends at 2.3 s), final after ~500 ms.
    assert 2.5 <= tentative_at <= 2.6 + 0.1
    assert tentative.segment.end_of_speech_detected_at_s < final.segment.end_of_speech_detected_at_s
    assert 2.8 <= final.segment.end_of_speech_detected_at_s <= 2.9


def test_speech_that_goes_on_after_the_short_silence_discards_the_tentative_end() -> None:
    # A 0.3 s pause inside the turn: longer than the speculative 200 ms, shorter than 500 ms.
    audio = _pattern(("pause", 0.3), ("speech", 1.5), ("pause", 0.3), ("speech", 1.5), ("pause", 1.0))
    events = _events(_segmenter(), audio)
    assert [e.kind for e in events] == [TENTATIVE, DISCARD, TENTATIVE, FINAL]
    assert events[1].segment is None
    final = events[-1]
    assert final.confirms_tentative
    # One utterance from the first word to the last: the pause did not cut the turn.
    assert final.segment.start_s == pytest.approx(0.1, abs=0.033)
    assert final.segment.end_s == pytest.approx(3.8, abs=0.033)


def test_push_returns_only_the_final_utterances() -> None:
    audio = _pattern(("pause", 0.3), ("speech", 1.5), ("pause", 0.3), ("speech", 1.5), ("pause", 1.0))
    segmenter = _segmenter()
    segments = []
    for piece in iter_chunks(audio, RATE_HZ, 100):
        segments += segmenter.push(piece)
    assert len(segments) == 1 and segments[0].duration_s == pytest.approx(3.7, abs=0.07)
    assert not segmenter.tentative and not segmenter.in_speech


def test_without_speculation_there_is_no_tentative_event() -> None:
    audio = _pattern(("pause", 0.3), ("speech", 1.5), ("pause", 0.3), ("speech", 1.5), ("pause", 1.0))
    events = _events(_segmenter(speculative_ms=0), audio)
    assert [e.kind for e in events] == [FINAL]
    assert not events[0].confirms_tentative


def test_a_pause_longer_than_min_silence_ends_the_utterance_after_its_tentative() -> None:
    audio = _pattern(("pause", 0.3), ("speech", 1.5), ("pause", 0.7), ("speech", 1.5), ("pause", 1.0))
    events = _events(_segmenter(), audio)
    assert [e.kind for e in events] == [TENTATIVE, FINAL, TENTATIVE, FINAL]
    assert all(e.confirms_tentative for e in events if e.kind == FINAL)


def test_a_cough_shorter_than_min_speech_is_never_tentative() -> None:
    audio = _pattern(("pause", 0.3), ("speech", 0.1), ("pause", 1.0))
    assert _events(_segmenter(), audio) == []


def test_a_cut_at_max_length_withdraws_a_tentative_end_first() -> None:
    # The limit falls inside a 0.3 s pause whose tentative end is out: the cut is not that end.
    settings = VadSettings(max_utterance_s=3.0, speculative_silence_ms=200)
    segmenter = UtteranceSegmenter(settings, session=_LoudnessIsSpeech())
    audio = _pattern(("speech", 2.7), ("pause", 0.45), ("speech", 1.0), ("pause", 1.0))
    events = _events(segmenter, audio)
    kinds = [e.kind for e in events]
    assert kinds[:3] == [TENTATIVE, DISCARD, FINAL]
    assert events[2].segment.cut_at_max_length and not events[2].confirms_tentative
    # Nothing lost: the pieces are contiguous and hold every sample of the speech.
    finals = [e.segment for e in events if e.kind == FINAL]
    assert finals[1].start_s == finals[0].end_s


def test_flush_confirms_a_tentative_end_in_progress() -> None:
    audio = _pattern(("pause", 0.3), ("speech", 1.5), ("pause", 0.3))
    segmenter = _segmenter()
    events = []
    for piece in iter_chunks(audio, RATE_HZ, 100):
        events += segmenter.push_events(piece)
    assert [e.kind for e in events] == [TENTATIVE]
    flushed = segmenter.flush_events()
    assert [e.kind for e in flushed] == [FINAL] and flushed[0].confirms_tentative
    np.testing.assert_array_equal(flushed[0].segment.samples, events[0].segment.samples)


def test_the_speculative_silence_must_be_shorter_than_the_end_of_turn_silence() -> None:
    with pytest.raises(ValueError, match="speculative_silence_ms"):
        VadSettings(min_silence_ms=300, speculative_silence_ms=300)
    settings = VadSettings.from_config(AsrConfig(min_silence_ms=600, speculative_silence_ms=150))
    assert settings.speculative_silence_ms == 150
