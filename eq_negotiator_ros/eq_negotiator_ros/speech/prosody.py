"""Prosody of one utterance: loudness, pitch, pitch movement and speaking rate.

These feed the emotion detector (eq/detection.py `fuse_prosody`): anger and fear raise energy,
pitch and pitch variability; sadness lowers them and slows speech.

Pitch is estimated with YIN (de Cheveigne & Kawahara 2002): the cumulative-mean-normalised
difference function, computed for all frames at once with FFT cross-correlation in numpy, so 5 s
of audio takes a few milliseconds. Plain autocorrelation peaks are prone to octave errors (they
pick 2x the period); YIN's first dip under a threshold picks the true period.
"""

from __future__ import annotations

import numpy as np

from ..eq.records import ProsodyFeatures
from .audio import SILENCE_DBFS, check_sample_rate, to_float32_mono
from .wer import normalise_text

ANALYSIS_RATE_HZ = 8000
MIN_PITCH_HZ = 60.0  # below a deep male voice
MAX_PITCH_HZ = 400.0  # above a raised female voice; higher peaks are mostly harmonics
FRAME_HOP_S = 0.010
INTEGRATION_WINDOW_S = 0.025  # YIN's difference window
YIN_THRESHOLD = 0.2  # first dip of the normalised difference under this = the period
ACTIVE_FLOOR_DBFS = -55.0  # frames quieter than this are silence whatever the clip's level
ACTIVE_RANGE_DB = 35.0  # ... and frames this far below the loudest frame are pauses or breath


def count_words(text: str) -> int:
    """Spoken words: numbers count as they are said ("$1,500" is four words and "dollars")."""
    return len(normalise_text(text).split())


def _frames(audio: np.ndarray, frame_length: int, hop: int) -> np.ndarray:
    if audio.size < frame_length:
        audio = np.pad(audio, (0, frame_length - audio.size))
    n_frames = 1 + (audio.size - frame_length) // hop
    return np.lib.stride_tricks.as_strided(
        audio,
        shape=(n_frames, frame_length),
        strides=(audio.strides[0] * hop, audio.strides[0]),
        writeable=False,
    )


def frame_levels(samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """RMS of each 25 ms frame, every 10 ms (the pitch track's framing)."""
    rate = check_sample_rate(sample_rate_hz)
    audio = to_float32_mono(samples).astype(np.float64)
    window = int(round(INTEGRATION_WINDOW_S * rate))
    hop = max(1, int(round(FRAME_HOP_S * rate)))
    if audio.size < window:
        return np.zeros(0)
    squares = np.concatenate([[0.0], np.cumsum(audio**2)])
    starts = np.arange(0, audio.size - window + 1, hop)
    return np.sqrt(np.maximum(squares[starts + window] - squares[starts], 0.0) / window)


def estimate_pitch_track(
    samples: np.ndarray,
    sample_rate_hz: int,
    min_pitch_hz: float = MIN_PITCH_HZ,
    max_pitch_hz: float = MAX_PITCH_HZ,
) -> np.ndarray:
    """F0 per 10 ms frame (0 where unvoiced), with YIN.

    The audio is first decimated to 8 kHz: a 400 Hz voice needs no more, and it makes the
    analysis four times cheaper than at 16 kHz.
    """
    rate = check_sample_rate(sample_rate_hz)
    audio = to_float32_mono(samples)
    if rate > ANALYSIS_RATE_HZ:
        from math import gcd

        from scipy.signal import resample_poly

        divisor = gcd(rate, ANALYSIS_RATE_HZ)
        audio = resample_poly(audio, ANALYSIS_RATE_HZ // divisor, rate // divisor)
        rate = ANALYSIS_RATE_HZ
    audio = np.ascontiguousarray(audio, dtype=np.float64)
    window = int(round(INTEGRATION_WINDOW_S * rate))
    tau_min = max(2, int(rate / max_pitch_hz))
    tau_max = int(np.ceil(rate / min_pitch_hz))
    hop = max(1, int(round(FRAME_HOP_S * rate)))
    if audio.size < window:
        return np.zeros(0)
    from scipy import fft as scipy_fft  # pocketfft with float32 support: ~3x numpy.fft here

    frame_length = window + tau_max + 1
    frames = np.ascontiguousarray(_frames(audio, frame_length, hop), dtype=np.float32)
    n_frames = frames.shape[0]
    # Circular correlation equals the linear one for lags <= tau_max once n_fft >= frame length.
    n_fft = 1 << int(np.ceil(np.log2(frame_length)))
    # r[t] = sum_j x[j] * x[j + t] over the integration window, for every lag, by FFT.
    spectrum = scipy_fft.rfft(frames, n_fft, axis=1) * np.conj(
        scipy_fft.rfft(frames[:, :window], n_fft, axis=1)
    )
    correlation = scipy_fft.irfft(spectrum, n_fft, axis=1)[:, : tau_max + 1].astype(np.float64)
    # Energies of the window and of its shifted copies from one running sum over the signal.
    padded = audio if audio.size >= frame_length else np.pad(audio, (0, frame_length - audio.size))
    running = np.concatenate([[0.0], np.cumsum(padded**2)])
    starts = np.arange(n_frames)[:, None] * hop
    lags = np.arange(tau_max + 1)
    energy_head = running[starts + window] - running[starts]
    energy_shifted = running[starts + lags + window] - running[starts + lags]
    difference = np.maximum(energy_head + energy_shifted - 2.0 * correlation, 0.0)
    cumulative = np.cumsum(difference[:, 1:], axis=1)
    normalised = np.ones_like(difference)
    normalised[:, 1:] = difference[:, 1:] * lags[1:] / np.maximum(cumulative, 1e-12)

    pitch = np.zeros(n_frames)
    search = normalised[:, tau_min : tau_max + 1]
    below = search < YIN_THRESHOLD
    voiced = below.any(axis=1)
    if not voiced.any():
        return pitch
    rows = np.nonzero(voiced)[0]
    search = search[rows]
    first = np.argmax(below[rows], axis=1)
    # Walk from the first value under the threshold down to the bottom of that dip: the first
    # lag after it where the curve stops falling.
    rising = np.diff(search, axis=1) >= 0  # rising[:, k]: search[k + 1] >= search[k]
    rising[:, -1] = True  # the end of the range bounds every dip
    after_first = np.arange(rising.shape[1])[None, :] >= first[:, None]
    bottom = np.argmax(rising & after_first, axis=1)
    tau = bottom + tau_min
    # Parabolic interpolation through the dip and its two neighbours (sub-sample period).
    left = normalised[rows, np.maximum(tau - 1, 1)]
    centre = normalised[rows, tau]
    right = normalised[rows, np.minimum(tau + 1, tau_max)]
    curvature = left - 2.0 * centre + right
    safe = np.where(curvature > 1e-12, curvature, 1.0)
    shift = np.where(curvature > 1e-12, 0.5 * (left - right) / safe, 0.0)
    pitch[rows] = rate / (tau + np.clip(shift, -1.0, 1.0))
    return pitch


def extract_prosody(samples: np.ndarray, sample_rate_hz: int, text: str = "") -> ProsodyFeatures:
    """Prosody of one utterance. Silence or empty audio gives zeros and the silence level, never an error.

    energy_dbfs is the RMS over the active (non-pause) frames, so leading and trailing silence
    from the segmenter's padding does not make a shout read quiet. Speaking rate is words per
    second over the span from the first to the last active frame.
    """
    rate = check_sample_rate(sample_rate_hz)
    audio = to_float32_mono(samples)
    duration = audio.size / rate
    frame_rms = frame_levels(audio, rate)
    pitch = estimate_pitch_track(audio, rate)
    # The two framings differ by at most a frame at the end (decimation rounding).
    n_frames = min(frame_rms.size, pitch.size) if pitch.size else frame_rms.size
    frame_rms = frame_rms[:n_frames]
    pitch = pitch[:n_frames] if pitch.size else np.zeros(n_frames)
    if frame_rms.size == 0 or float(np.max(frame_rms)) <= 0.0:
        return ProsodyFeatures(
            energy_dbfs=SILENCE_DBFS,
            pitch_hz=0.0,
            pitch_variability_semitones=0.0,
            speaking_rate_wps=0.0,
            duration_s=duration,
        )
    frame_dbfs = 20.0 * np.log10(np.maximum(frame_rms, 1e-12))
    active = (frame_dbfs > ACTIVE_FLOOR_DBFS) & (frame_dbfs > frame_dbfs.max() - ACTIVE_RANGE_DB)
    if not active.any():
        level = float(np.sqrt(np.mean(frame_rms**2)))
        return ProsodyFeatures(
            energy_dbfs=max(SILENCE_DBFS, 20.0 * float(np.log10(max(level, 1e-12)))),
            pitch_hz=0.0,
            pitch_variability_semitones=0.0,
            speaking_rate_wps=0.0,
            duration_s=duration,
        )
    energy = float(np.sqrt(np.mean(frame_rms[active] ** 2)))
    voiced = pitch[active & (pitch > 0)]
    if voiced.size:
        median_pitch = float(np.median(voiced))
        semitones = 12.0 * np.log2(voiced / median_pitch)
        variability = float(np.std(semitones))
    else:
        median_pitch, variability = 0.0, 0.0
    indices = np.nonzero(active)[0]
    hop_s = max(1, int(round(FRAME_HOP_S * rate))) / rate
    speech_span_s = float((indices[-1] - indices[0]) * hop_s + INTEGRATION_WINDOW_S)
    words = count_words(text)
    return ProsodyFeatures(
        energy_dbfs=max(SILENCE_DBFS, 20.0 * float(np.log10(energy))),
        pitch_hz=median_pitch,
        pitch_variability_semitones=variability,
        speaking_rate_wps=float(words / speech_span_s) if speech_span_s > 0 else 0.0,
        duration_s=duration,
    )
