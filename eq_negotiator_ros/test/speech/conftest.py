"""Real models shared by the speech tests: loaded once per test session (each takes ~1-3 s)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from speech_samples import DEBTOR_SENTENCES  # noqa: F401 - kept importable from here

from eq_negotiator_ros.speech.audio import resample


def pytest_configure(config):
    # test/conftest.py turns this mark into "integration"; registered here so pytest knows it.
    config.addinivalue_line("markers", "models: loads a real model (Piper, Whisper, Silero, Gemma)")


@pytest.fixture(scope="session")
def synthesizer():
    from eq_negotiator_ros.config import TtsConfig
    from eq_negotiator_ros.speech.tts import SpeechSynthesizer

    # Piper's generator noise off: the same audio on every run, so a word Whisper mishears in one
    # random rendering cannot fail a test on one run and pass it on the next.
    return SpeechSynthesizer(TtsConfig(noise_scale=0.0, noise_w=0.0))


@pytest.fixture(scope="session")
def recognizer():
    from eq_negotiator_ros.speech.asr import SpeechRecognizer

    return SpeechRecognizer()


@pytest.fixture(scope="session")
def speak_16k(synthesizer):
    """text -> Piper speech resampled to 16 kHz (what the microphone path delivers), cached."""

    @functools.lru_cache(maxsize=None)
    def speak(text: str) -> np.ndarray:
        audio = synthesizer.synthesize(text)
        return resample(audio, synthesizer.sample_rate_hz, 16000)

    return speak
