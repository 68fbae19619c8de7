"""speech/audio.py: one sample format everywhere, WAV files, chunks, levels."""

from __future__ import annotations

import io

import numpy as np
import pytest

from eq_negotiator_ros.speech.audio import (
    AudioFormatError,
    chunk,
    clipped_fraction,
    concatenate,
    float_to_int16,
    int16_to_float,
    is_clipping,
    read_wav,
    resample,
    rms_dbfs,
    silence,
    to_float32_mono,
    wav_bytes,
    write_wav,
)


def sine(freq_hz: float, seconds: float, rate_hz: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def test_int16_round_trip_keeps_the_signal() -> None:
    signal = sine(440, 0.1, 16000)
    back = int16_to_float(float_to_int16(signal))
    assert back.dtype == np.float32
    assert np.max(np.abs(back - signal)) < 1e-4


def test_int16_scaling_and_bytes() -> None:
    pcm = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    assert np.allclose(int16_to_float(pcm), [0.0, 0.5, -1.0, 32767 / 32768])
    assert np.allclose(int16_to_float(pcm.astype("<i2").tobytes()), int16_to_float(pcm))
    # An odd byte count (half a sample at the end of a chunk) is dropped, not an error.
    assert int16_to_float(pcm.tobytes() + b"\x01").size == 4


def test_float_to_int16_clips_instead_of_wrapping() -> None:
    pcm = float_to_int16(np.array([2.0, -3.0, 0.25], dtype=np.float32))
    assert pcm.tolist() == [32767, -32768, 8192]


def test_stereo_is_averaged_to_mono_in_either_layout() -> None:
    left = np.full(100, 0.5, dtype=np.float32)
    right = np.zeros(100, dtype=np.float32)
    assert np.allclose(to_float32_mono(np.stack([left, right], axis=1)), 0.25)  # (frames, channels)
    assert np.allclose(to_float32_mono(np.stack([left, right], axis=0)), 0.25)  # (channels, frames)


def test_nan_and_inf_become_safe_values() -> None:
    cleaned = to_float32_mono(np.array([np.nan, np.inf, -np.inf, 0.5]))
    assert cleaned.tolist() == [0.0, 1.0, -1.0, 0.5]


def test_non_numeric_audio_is_a_clear_error() -> None:
    with pytest.raises(AudioFormatError, match="numbers"):
        to_float32_mono(np.array(["a", "b"]))


def test_resample_changes_length_and_keeps_the_tone() -> None:
    tone = sine(300, 1.0, 22050)
    out = resample(tone, 22050, 16000)
    assert out.dtype == np.float32
    assert abs(out.size - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * 16000 / out.size - 300) < 2


def test_resample_same_rate_and_empty() -> None:
    tone = sine(300, 0.1, 16000)
    assert np.array_equal(resample(tone, 16000, 16000), tone)
    assert resample(np.zeros(0), 22050, 16000).size == 0


@pytest.mark.parametrize("bad_rate", [0, -16000, 44.1, 10**7, "fast", None])
def test_bad_sample_rates_are_rejected_with_a_message(bad_rate) -> None:
    with pytest.raises(AudioFormatError, match="Hz"):
        resample(np.zeros(10), bad_rate, 16000)


def test_wav_round_trip(tmp_path) -> None:
    tone = sine(440, 0.25, 22050)
    path = tmp_path / "tone.wav"
    write_wav(path, tone, 22050)
    samples, rate = read_wav(path)
    assert rate == 22050
    assert np.max(np.abs(samples - tone)) < 1e-4
    resampled, new_rate = read_wav(path, target_rate_hz=16000)
    assert new_rate == 16000 and abs(resampled.size - 4000) <= 1


def test_wav_in_memory_and_stereo_8bit() -> None:
    data = wav_bytes(sine(200, 0.05, 16000), 16000)
    samples, rate = read_wav(io.BytesIO(data))
    assert rate == 16000 and samples.size == 800
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(1)
        handle.setframerate(8000)
        handle.writeframes(bytes([255, 128] * 100))  # left near +1, right at 0
    buffer.seek(0)
    samples, rate = read_wav(buffer)
    assert rate == 8000 and samples.size == 100
    assert np.allclose(samples, 127 / 128 / 2, atol=1e-3)


def test_unreadable_wav_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav file at all")
    with pytest.raises(AudioFormatError, match="convert"):
        read_wav(bad)
    with pytest.raises(AudioFormatError, match="not found"):
        read_wav(tmp_path / "missing.wav")


def test_chunking_into_fixed_durations() -> None:
    audio = np.arange(16000 * 0.35, dtype=np.float32) / 1e5
    parts = chunk(audio, 16000, 100)
    assert [p.size for p in parts] == [1600, 1600, 1600, 800]
    assert np.array_equal(np.concatenate(parts), audio)
    padded = chunk(audio, 16000, 100, pad_last=True)
    assert padded[-1].size == 1600 and np.all(padded[-1][800:] == 0)
    assert chunk(np.zeros(0), 16000, 100) == []
    with pytest.raises(AudioFormatError, match="chunk"):
        chunk(audio, 16000, 0)


def test_concatenate_with_silence() -> None:
    a, b = np.ones(10, np.float32), np.ones(5, np.float32)
    joined = concatenate([a, b], 1000, gap_s=0.02)
    assert joined.size == 35
    assert np.all(joined[10:30] == 0)
    assert concatenate([], 1000).size == 0
    assert silence(0.5, 16000).size == 8000


def test_levels_in_dbfs() -> None:
    assert rms_dbfs(sine(100, 1, 16000, amplitude=1.0)) == pytest.approx(-3.01, abs=0.05)
    assert rms_dbfs(sine(100, 1, 16000, amplitude=0.1)) == pytest.approx(-23.01, abs=0.05)
    assert rms_dbfs(np.zeros(100)) == -120.0
    assert rms_dbfs(np.zeros(0)) == -120.0


def test_clipping_detection() -> None:
    clean = sine(100, 1, 16000, amplitude=0.5)
    assert not is_clipping(clean)
    clipped = np.clip(sine(100, 1, 16000, amplitude=3.0), -1, 1)
    assert is_clipping(clipped)
    assert clipped_fraction(clipped) > 0.5
    click = clean.copy()
    click[100] = 1.0
    assert not is_clipping(click)  # one full-scale sample is a click, not a gain problem
