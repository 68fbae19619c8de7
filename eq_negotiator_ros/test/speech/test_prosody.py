"""speech/prosody.py: loudness, pitch, pitch movement and rate order correctly on known signals."""

from __future__ import annotations

import numpy as np
import pytest

from eq_negotiator_ros.speech.prosody import count_words, extract_prosody

RATE_HZ = 16000


def voiced_tone(f0_hz, seconds: float = 2.0, amplitude: float = 0.3, rate_hz: int = RATE_HZ) -> np.ndarray:
    """A harmonic tone (like a vowel: a fundamental and decaying harmonics); f0 may vary over time."""
    n = int(seconds * rate_hz)
    f0 = np.broadcast_to(np.asarray(f0_hz, dtype=float), (n,))
    phase = 2 * np.pi * np.cumsum(f0) / rate_hz
    signal = sum((0.6**k) * np.sin((k + 1) * phase) for k in range(5))
    return (amplitude * signal / np.max(np.abs(signal))).astype(np.float32)


@pytest.mark.parametrize("f0_hz", [80.0, 120.0, 220.0, 350.0])
def test_pitch_of_a_harmonic_tone(f0_hz: float) -> None:
    assert extract_prosody(voiced_tone(f0_hz), RATE_HZ, "").pitch_hz == pytest.approx(f0_hz, rel=0.01)


def test_high_pitch_reads_higher_than_low_pitch() -> None:
    low = extract_prosody(voiced_tone(110.0), RATE_HZ, "")
    high = extract_prosody(voiced_tone(260.0), RATE_HZ, "")
    assert high.pitch_hz > low.pitch_hz


def test_loud_reads_louder_than_quiet() -> None:
    loud = extract_prosody(voiced_tone(150.0, amplitude=0.8), RATE_HZ, "")
    quiet = extract_prosody(voiced_tone(150.0, amplitude=0.05), RATE_HZ, "")
    assert loud.energy_dbfs > quiet.energy_dbfs + 20
    assert quiet.pitch_hz == pytest.approx(150.0, rel=0.01)  # level does not change the pitch


def test_padding_silence_does_not_lower_the_energy() -> None:
    tone = voiced_tone(150.0)
    padded = np.concatenate([np.zeros(RATE_HZ), tone, np.zeros(RATE_HZ)])
    assert extract_prosody(padded, RATE_HZ, "").energy_dbfs == pytest.approx(
        extract_prosody(tone, RATE_HZ, "").energy_dbfs, abs=0.5
    )


def test_pitch_variability_in_semitones() -> None:
    seconds = 3.0
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    steady = extract_prosody(voiced_tone(150.0, seconds), RATE_HZ, "")
    # +-2 semitones of sinusoidal vibrato: standard deviation 2 / sqrt(2).
    vibrato = extract_prosody(
        voiced_tone(150.0 * 2 ** (2 * np.sin(2 * np.pi * t) / 12), seconds), RATE_HZ, ""
    )
    assert steady.pitch_variability_semitones < 0.05
    assert vibrato.pitch_variability_semitones == pytest.approx(2 / np.sqrt(2), abs=0.1)


def test_speaking_rate_counts_words_over_the_speech_span() -> None:
    speech = np.concatenate([np.zeros(RATE_HZ // 2), voiced_tone(150.0, 2.0), np.zeros(RATE_HZ // 2)])
    features = extract_prosody(speech, RATE_HZ, "one two three four five six")
    assert features.duration_s == pytest.approx(3.0)
    assert features.speaking_rate_wps == pytest.approx(3.0, rel=0.05)


def test_other_sample_rates() -> None:
    assert extract_prosody(voiced_tone(200.0, rate_hz=22050), 22050, "").pitch_hz == pytest.approx(
        200.0, rel=0.01
    )


def test_noise_has_energy_but_no_pitch() -> None:
    noise = np.random.default_rng(0).standard_normal(RATE_HZ).astype(np.float32) * 0.1
    features = extract_prosody(noise, RATE_HZ, "")
    assert features.pitch_hz == 0.0
    assert features.energy_dbfs == pytest.approx(-20.0, abs=1.0)


@pytest.mark.parametrize("samples", [np.zeros(0), np.zeros(100), np.zeros(RATE_HZ), np.full(RATE_HZ, np.nan)])
def test_empty_and_silent_audio_give_defined_zeros(samples) -> None:
    features = extract_prosody(samples, RATE_HZ, "hello")
    assert features.pitch_hz == 0.0
    assert features.speaking_rate_wps == 0.0
    assert features.energy_dbfs == -120.0


def test_features_are_plain_json_numbers() -> None:
    import json

    features = extract_prosody(voiced_tone(150.0), RATE_HZ, "a few words")
    data = json.loads(json.dumps(features.to_dict()))
    assert set(data) == {
        "energy_dbfs",
        "pitch_hz",
        "pitch_variability_semitones",
        "speaking_rate_wps",
        "duration_s",
    }


def test_word_count() -> None:
    assert (
        count_words("I can't pay $1,500 today!") == 9
    )  # i can't pay one thousand five hundred dollars today
    assert count_words("") == 0
    assert count_words("🙂 🙂") == 0
