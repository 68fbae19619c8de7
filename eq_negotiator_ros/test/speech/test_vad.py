"""speech/vad.py: streaming segmentation with the real Silero model on Piper speech and noise."""

from __future__ import annotations

import numpy as np
import pytest

from eq_negotiator_ros.config import AsrConfig
from eq_negotiator_ros.speech.audio import iter_chunks, silence
from eq_negotiator_ros.speech.vad import SpeechSegment, UtteranceSegmenter, VadSettings

from conftest import DEBTOR_SENTENCES

RATE_HZ = 16000


def run_stream(segmenter: UtteranceSegmenter, audio: np.ndarray, chunk_ms: int = 100) -> list[SpeechSegment]:
    segments: list[SpeechSegment] = []
    for piece in iter_chunks(audio, RATE_HZ, chunk_ms):
        segments += segmenter.push(piece)
    return segments + segmenter.flush()


@pytest.fixture(scope="module")
def segmenter() -> UtteranceSegmenter:
    return UtteranceSegmenter(VadSettings())


@pytest.fixture(scope="module")
def two_utterances(speak_16k):
    first, second = speak_16k(DEBTOR_SENTENCES[0]), speak_16k(DEBTOR_SENTENCES[1])
    audio = np.concatenate([silence(1.0, RATE_HZ), first, silence(1.5, RATE_HZ), second, silence(1.0, RATE_HZ)])
    first_span = (1.0, 1.0 + first.size / RATE_HZ)
    second_start = first_span[1] + 1.5
    return audio, first_span, (second_start, second_start + second.size / RATE_HZ)


@pytest.mark.models
def test_finds_both_utterances_in_silence_speech_silence_speech(segmenter, two_utterances) -> None:
    audio, first_span, second_span = two_utterances
    segmenter.reset()
    segments = run_stream(segmenter, audio)
    assert len(segments) == 2
    for segment, (start, end) in zip(segments, (first_span, second_span)):
        # Piper adds a little silence around speech; the pad is 200 ms: boundaries within 0.4 s.
        assert abs(segment.start_s - start) < 0.4
        assert abs(segment.end_s - end) < 0.4
        assert segment.samples.size == pytest.approx(segment.duration_s * RATE_HZ, abs=1)
        assert not segment.cut_at_max_length


@pytest.mark.models
def test_end_of_speech_is_detected_soon_after_the_silence(segmenter, two_utterances) -> None:
    audio, _, _ = two_utterances
    segmenter.reset()
    segments = []
    for piece in iter_chunks(audio, RATE_HZ, 100):
        segments += segmenter.push(piece)
    # Both came out of push() (not flush), each within min_silence + a chunk + a window of its end.
    assert len(segments) == 2
    for segment in segments:
        latency = segment.end_of_speech_detected_at_s - segment.end_s
        assert latency <= 0.5 + 0.1 + 0.032


@pytest.mark.models
def test_same_result_with_odd_chunk_sizes(segmenter, two_utterances) -> None:
    audio, _, _ = two_utterances
    segmenter.reset()
    reference = run_stream(segmenter, audio, chunk_ms=100)
    segmenter.reset()
    odd = []
    rng = np.random.default_rng(0)
    position = 0
    while position < audio.size:
        size = int(rng.integers(0, 3000))  # includes 0-length chunks
        odd += segmenter.push(audio[position:position + size])
        position += size
    odd += segmenter.flush()
    assert [(s.start_s, s.end_s) for s in odd] == [(s.start_s, s.end_s) for s in reference]


@pytest.mark.models
def test_white_noise_silence_and_clicks_give_no_utterance(segmenter) -> None:
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(RATE_HZ * 5) * 0.2).astype(np.float32)
    clicks = np.zeros(RATE_HZ * 3, dtype=np.float32)
    clicks[:: RATE_HZ // 4] = 1.0
    for audio in (noise, np.zeros(RATE_HZ * 3, dtype=np.float32), clicks):
        segmenter.reset()
        assert run_stream(segmenter, audio) == []
        assert not segmenter.in_speech
    segmenter.reset()
    assert segmenter.push(np.zeros(0, dtype=np.float32)) == []
    assert segmenter.flush() == []


@pytest.mark.models
def test_int16_input_is_accepted(segmenter, speak_16k) -> None:
    from eq_negotiator_ros.speech.audio import float_to_int16

    audio = np.concatenate([silence(0.5, RATE_HZ), speak_16k(DEBTOR_SENTENCES[2]), silence(1.0, RATE_HZ)])
    segmenter.reset()
    assert len(run_stream(segmenter, float_to_int16(audio))) == 1


@pytest.mark.models
def test_long_monologue_is_cut_at_max_utterance_s(speak_16k) -> None:
    sentence = speak_16k(DEBTOR_SENTENCES[0])
    gap = silence(0.15, RATE_HZ)  # breaths shorter than min_silence_ms: one long utterance
    repeats = int(np.ceil(120.0 / ((sentence.size + gap.size) / RATE_HZ)))
    monologue = np.concatenate([np.concatenate([sentence, gap])] * repeats + [silence(1.0, RATE_HZ)])
    segmenter = UtteranceSegmenter(VadSettings(max_utterance_s=30.0))
    segments = run_stream(segmenter, monologue)
    assert len(segments) >= 4
    assert all(s.duration_s <= 30.0 + 1e-6 for s in segments), [s.to_dict() for s in segments]
    assert sum(s.cut_at_max_length for s in segments) >= 3
    # The pieces follow each other without losing audio between them.
    for before, after in zip(segments, segments[1:]):
        if before.cut_at_max_length:
            assert after.start_s == pytest.approx(before.end_s)


class _AlwaysSpeech:
    """A stand-in model that hears speech in every window (pure segmentation logic)."""

    def __init__(self, probability: float = 0.95) -> None:
        self.probability = probability

    def run(self, _outputs, feeds):
        n = feeds["input"].shape[0]
        return np.full((n, 1), self.probability, np.float32), feeds["h"], feeds["c"]


def test_memory_is_bounded_while_idle_and_in_speech() -> None:
    idle = UtteranceSegmenter(VadSettings(), session=_AlwaysSpeech(0.0))
    for _ in range(100):
        idle.push(np.zeros(1600, dtype=np.float32))
    assert idle._buffer_size <= idle._pad_samples + 512
    talking = UtteranceSegmenter(VadSettings(max_utterance_s=2.0), session=_AlwaysSpeech())
    cut = []
    for _ in range(100):  # 10 s of speech
        cut += talking.push(np.zeros(1600, dtype=np.float32))
        assert talking._buffer_size <= 2.0 * RATE_HZ + 1600
    # 10 s in 2 s pieces: four cuts while streaming, the rest comes out on flush.
    assert [(s.start_s, s.end_s) for s in cut] == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)]
    assert all(s.cut_at_max_length for s in cut)
    rest = talking.flush()
    assert len(rest) == 1 and rest[0].start_s == 8.0 and rest[0].end_s == pytest.approx(10.0)


def test_settings_from_config_and_bad_settings() -> None:
    settings = VadSettings.from_config(AsrConfig(vad_threshold=0.6, min_silence_ms=300))
    assert settings.threshold == 0.6 and settings.min_silence_ms == 300
    with pytest.raises(ValueError, match="16000"):
        VadSettings(sample_rate_hz=44100)
    with pytest.raises(ValueError, match="vad_threshold"):
        VadSettings(threshold=1.5)
