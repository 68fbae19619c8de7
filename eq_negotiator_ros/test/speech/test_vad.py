"""speech/vad.py: streaming segmentation with the real Silero model on Piper speech and noise."""

from __future__ import annotations

import numpy as np
import pytest
from speech_samples import DEBTOR_SENTENCES

from eq_negotiator_ros.config import AsrConfig
from eq_negotiator_ros.speech.audio import iter_chunks, silence
from eq_negotiator_ros.speech.vad import SpeechSegment, UtteranceSegmenter, VadSettings

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
    audio = np.concatenate(
        [silence(1.0, RATE_HZ), first, silence(1.5, RATE_HZ), second, silence(1.0, RATE_HZ)]
    )
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
        odd += segmenter.push(audio[position : position + size])
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


def _trimmed(speech: np.ndarray) -> np.ndarray:
    """Piper's speech without its own leading and trailing silence (its length varies from run to
    run), so that the gaps a test puts between sentences are the pauses it means."""
    loud = np.flatnonzero(np.abs(speech) > 0.02)
    return speech[loud[0] : loud[-1] + 1]


# Between sentences: a breath, shorter than min_silence_ms (500 ms), so a monologue stays one utterance.
SENTENCE_GAP_S = 0.3


@pytest.fixture(scope="module")
def monologue(speak_16k):
    """Two minutes of one sentence said over and over, with breaths shorter than min_silence_ms
    between them (one long utterance); returns the audio and the sentence-gap spans in seconds."""
    sentence = _trimmed(speak_16k(DEBTOR_SENTENCES[0]))
    gap = silence(SENTENCE_GAP_S, RATE_HZ)
    period_s = (sentence.size + gap.size) / RATE_HZ
    repeats = int(np.ceil(120.0 / period_s))
    audio = np.concatenate([np.concatenate([sentence, gap])] * repeats + [silence(1.0, RATE_HZ)])
    gaps = [(i * period_s + sentence.size / RATE_HZ, (i + 1) * period_s) for i in range(repeats)]
    return audio, gaps


@pytest.mark.models
def test_long_monologue_is_cut_between_sentences(monologue) -> None:
    from eq_negotiator_ros.speech.audio import rms_dbfs

    audio, gaps = monologue
    segmenter = UtteranceSegmenter(VadSettings(max_utterance_s=30.0))
    segments = run_stream(segmenter, audio)
    assert len(segments) >= 4
    assert all(s.duration_s <= 30.0 + 1e-6 for s in segments), [s.to_dict() for s in segments]
    cuts = [s.end_s for s in segments if s.cut_at_max_length]
    assert len(cuts) >= 3
    for cut in cuts:
        # In a gap between two sentences (not a pause between words), with silence around the cut.
        index = int(round(cut * RATE_HZ))
        assert rms_dbfs(audio[index - 480 : index + 480]) < -45.0, f"cut at {cut:.2f} s is in speech"
        assert any(start <= cut <= end for start, end in gaps), f"cut at {cut:.2f} s is not between sentences"
    # The pieces follow each other without losing or repeating audio.
    for before, after in zip(segments, segments[1:]):
        if before.cut_at_max_length:
            assert after.start_s == pytest.approx(before.end_s)


# Different sentences (a repeated one lets Whisper complete a cut sentence from memory); no numbers
# (Whisper writes them either way) and no commas (a comma's pause could rival the sentence gaps).
STORY = (
    "I lost my job last month and I cannot pay the full amount now.",
    "My landlord raised the rent in the spring and then my car broke down.",
    "I have always paid my bills on time until this year.",
    "My sister might be able to help me with part of the money.",
    "I want to settle this debt but I need a plan that I can keep.",
    "The hospital bills took most of my savings last winter.",
    "Please tell me what you can offer me today.",
    "I would rather pay a little every week than miss a payment.",
)


def _words(text: str) -> list[str]:
    return "".join(c for c in text.lower() if c.isalpha() or c.isspace()).split()


@pytest.fixture(scope="module")
def steady_speech_16k():
    """Piper without its random generator noise: the same words give the same audio on every run,
    so what Whisper hears in this test does not change from one run to the next."""
    from eq_negotiator_ros.config import TtsConfig
    from eq_negotiator_ros.speech.audio import resample
    from eq_negotiator_ros.speech.tts import SpeechSynthesizer

    synthesizer = SpeechSynthesizer(TtsConfig(noise_scale=0.0, noise_w=0.0))
    return lambda text: resample(synthesizer.synthesize(text), synthesizer.sample_rate_hz, RATE_HZ)


@pytest.mark.models
def test_each_piece_of_a_long_monologue_is_recognised_as_whole_sentences(
    steady_speech_16k, recognizer
) -> None:
    sentences = [_trimmed(steady_speech_16k(text)) for text in STORY]
    gap = silence(SENTENCE_GAP_S, RATE_HZ)
    audio = np.concatenate([np.concatenate([s, gap]) for s in sentences] + [silence(1.0, RATE_HZ)])
    ends = np.cumsum([(s.size + gap.size) / RATE_HZ for s in sentences])
    # A limit half-way through the sixth sentence: a cut at the limit would split it.
    limit_s = round(float(ends[4] + ends[5]) / 2, 2)
    segments = run_stream(UtteranceSegmenter(VadSettings(max_utterance_s=limit_s)), audio)
    assert segments[0].cut_at_max_length
    first, second = (_words(recognizer.transcribe(s.samples).text) for s in segments[:2])
    # The first piece ends with the last words of a sentence and the second starts with the first
    # words of the next one (two words: the small Whisper model may mishear one elsewhere).
    cut_after = next((i for i, text in enumerate(STORY) if first[-2:] == _words(text)[-2:]), None)
    assert cut_after is not None and cut_after + 1 < len(STORY), (first, second)
    assert second[:2] == _words(STORY[cut_after + 1])[:2], (first, second)


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


class _LoudnessIsSpeech:
    """A stand-in model for synthetic speech/pause patterns: a window is speech when it is loud."""

    def run(self, _outputs, feeds):
        windows = feeds["input"][:, -512:]
        loud = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1)) > 0.01
        return np.where(loud, 0.95, 0.02).astype(np.float32)[:, None], feeds["h"], feeds["c"]


def _pattern(*parts: tuple[str, float]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """("speech", 3.0), ("pause", 0.3), ...: loud noise and digital silence; returns the pause spans."""
    rng = np.random.default_rng(3)
    pieces, pauses, t = [], [], 0.0
    for kind, seconds in parts:
        n = int(round(seconds * RATE_HZ))
        speech = np.clip(rng.standard_normal(n) * 0.2, -0.9, 0.9).astype(np.float32)
        pieces.append(speech if kind == "speech" else np.zeros(n, np.float32))
        if kind == "pause":
            pauses.append((t, t + seconds))
        t += seconds
    return np.concatenate(pieces), pauses


def _assert_contiguous_and_complete(segments: list[SpeechSegment], audio: np.ndarray) -> None:
    for before, after in zip(segments, segments[1:]):
        if before.cut_at_max_length:
            assert after.start_s == before.end_s  # exact: the same sample index
    start, end = round(segments[0].start_s * RATE_HZ), round(segments[-1].end_s * RATE_HZ)
    np.testing.assert_array_equal(np.concatenate([s.samples for s in segments]), audio[start:end])


def test_a_forced_cut_goes_to_the_longest_pause_before_the_limit() -> None:
    # 10 s limit, pauses shorter than min_silence (500 ms): one long utterance that must be cut.
    # In the last half of the first 10 s the 0.45 s pause at 6.1 s is the longest (not 10.0 s).
    audio, pauses = _pattern(
        ("pause", 0.5),
        ("speech", 3.0),
        ("pause", 0.4),
        ("speech", 2.2),
        ("pause", 0.45),
        ("speech", 2.5),
        ("pause", 0.2),
        ("speech", 3.0),
        ("pause", 0.3),
        ("speech", 3.0),
        ("pause", 1.0),
    )
    segmenter = UtteranceSegmenter(VadSettings(max_utterance_s=10.0), session=_LoudnessIsSpeech())
    segments = run_stream(segmenter, audio)
    cuts = [s.end_s for s in segments if s.cut_at_max_length]
    assert len(cuts) == 1 and len(segments) == 2
    assert pauses[2][0] < cuts[0] < pauses[2][1]  # inside the 0.45 s pause, not at 10.5 s
    assert abs(cuts[0] - sum(pauses[2]) / 2) <= 0.032  # ... in its middle (to a window)
    assert all(s.duration_s <= 10.0 for s in segments)
    _assert_contiguous_and_complete(segments, audio)


def test_every_forced_cut_of_a_monologue_is_in_a_pause_and_nothing_is_lost() -> None:
    rng = np.random.default_rng(5)
    parts = [("pause", 0.3)]
    for _ in range(40):  # ~2.5 min: sentences of 1.5-5 s between pauses of 0.1-0.45 s
        parts += [("speech", float(rng.uniform(1.5, 5.0))), ("pause", float(rng.uniform(0.1, 0.45)))]
    audio, pauses = _pattern(*parts, ("pause", 1.0))
    segmenter = UtteranceSegmenter(VadSettings(max_utterance_s=20.0), session=_LoudnessIsSpeech())
    segments = []
    for piece in iter_chunks(audio, RATE_HZ, 100):
        segments += segmenter.push(piece)
        assert segmenter._buffer_size <= 20.0 * RATE_HZ + 1600
    segments += segmenter.flush()
    cuts = [s.end_s for s in segments if s.cut_at_max_length]
    assert len(cuts) >= 5
    for cut in cuts:
        assert any(start < cut < end for start, end in pauses), f"cut at {cut:.3f} s is inside speech"
    assert all(s.duration_s <= 20.0 for s in segments)
    _assert_contiguous_and_complete(segments, audio)


def test_speech_without_any_pause_is_still_cut_at_the_limit() -> None:
    audio, _ = _pattern(("pause", 0.2), ("speech", 25.0), ("pause", 1.0))
    segmenter = UtteranceSegmenter(VadSettings(max_utterance_s=10.0), session=_LoudnessIsSpeech())
    segments = run_stream(segmenter, audio)
    assert [s.cut_at_max_length for s in segments] == [True, True, False]
    assert [round(s.duration_s, 3) for s in segments[:2]] == [10.0, 10.0]
    _assert_contiguous_and_complete(segments, audio)


def test_settings_from_config_and_bad_settings() -> None:
    settings = VadSettings.from_config(AsrConfig(vad_threshold=0.6, min_silence_ms=300))
    assert settings.threshold == 0.6 and settings.min_silence_ms == 300
    with pytest.raises(ValueError, match="16000"):
        VadSettings(sample_rate_hz=44100)
    with pytest.raises(ValueError, match="vad_threshold"):
        VadSettings(threshold=1.5)
