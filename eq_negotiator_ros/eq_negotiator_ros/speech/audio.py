"""Audio helpers shared by the speech stack: one sample format (float32 mono in [-1, 1]) everywhere.

Microphones and ROS AudioChunk messages carry int16; Silero VAD and Whisper want float32 at
16 kHz; Piper produces 22.05 kHz. Converting once at the edges with these functions keeps every
other module free of format cases.
"""

from __future__ import annotations

import io
import wave
from math import gcd
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

import numpy as np

INT16_SCALE = 32768.0
MIN_SAMPLE_RATE_HZ = 1000
MAX_SAMPLE_RATE_HZ = 384000
SILENCE_DBFS = -120.0  # what the RMS of an empty or all-zero signal reads as (instead of -inf)
CLIP_LEVEL = 0.999  # |sample| at or above this counts as clipped (int16 full scale is 32767/32768)


class AudioFormatError(ValueError):
    """Audio data or a sample rate cannot be used; the message says what is wrong and what to do."""


def check_sample_rate(sample_rate_hz: int, name: str = "sample_rate_hz") -> int:
    """A sample rate must be a whole number of Hz in a sensible range."""
    try:
        rate = int(sample_rate_hz)
    except (TypeError, ValueError):
        raise AudioFormatError(f"{name} must be a whole number of Hz, got {sample_rate_hz!r}") from None
    if rate != sample_rate_hz or not MIN_SAMPLE_RATE_HZ <= rate <= MAX_SAMPLE_RATE_HZ:
        raise AudioFormatError(
            f"{name} must be a whole number between {MIN_SAMPLE_RATE_HZ} and "
            f"{MAX_SAMPLE_RATE_HZ} Hz, got {sample_rate_hz!r}"
        )
    return rate


def to_float32_mono(samples: np.ndarray | Sequence[float] | bytes) -> np.ndarray:
    """Any common sample layout -> 1-D float32 in [-1, 1].

    int16 is scaled by 1/32768, other integer types by their own range; bytes are read as
    little-endian int16 (the ROS AudioChunk and WAV layout). A 2-D array is (frames, channels)
    unless its first axis is clearly the channel axis (<= 8 rows and more columns); channels are
    averaged. NaN and inf are replaced by 0 so that one bad sample cannot poison a whole model run.
    """
    if isinstance(samples, (bytes, bytearray, memoryview)):
        raw = bytes(samples)
        if len(raw) % 2:
            raw = raw[:-1]  # a half sample at the end of a chunk cannot be decoded
        array = np.frombuffer(raw, dtype="<i2")
    else:
        array = np.asarray(samples)
    if array.dtype.kind in "iu":
        info = np.iinfo(array.dtype)
        if array.dtype.kind == "u":  # unsigned PCM (8-bit WAV) is centred on the middle value
            middle = (int(info.max) + 1) / 2.0
            array = (array.astype(np.float64) - middle) / middle
        else:
            array = array.astype(np.float64) / (float(info.max) + 1.0)
    elif array.dtype.kind == "b":
        array = array.astype(np.float64)
    elif array.dtype.kind != "f":
        raise AudioFormatError(f"audio samples must be numbers, got dtype {array.dtype}")
    if array.ndim == 2:
        channels_first = array.shape[0] <= 8 and array.shape[1] > array.shape[0]
        array = array.mean(axis=1 if not channels_first else 0)
    elif array.ndim > 2:
        raise AudioFormatError(f"audio must be 1-D (mono) or 2-D (frames, channels), got shape {array.shape}")
    array = np.nan_to_num(array.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(array.reshape(-1), -1.0, 1.0).astype(np.float32, copy=False)


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16, clipping out-of-range values instead of wrapping around."""
    array = to_float32_mono(samples)
    return np.clip(np.round(array * INT16_SCALE), -32768, 32767).astype(np.int16)


def int16_to_float(samples: np.ndarray | bytes) -> np.ndarray:
    """int16 (array or little-endian bytes) -> float32 in [-1, 1]."""
    if isinstance(samples, (bytes, bytearray, memoryview)):
        return to_float32_mono(samples)
    return to_float32_mono(np.asarray(samples, dtype=np.int16))


def resample(samples: np.ndarray, from_rate_hz: int, to_rate_hz: int) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly, which low-pass filters against aliasing)."""
    source = check_sample_rate(from_rate_hz, "from_rate_hz")
    target = check_sample_rate(to_rate_hz, "to_rate_hz")
    array = to_float32_mono(samples)
    if source == target or array.size == 0:
        return array.copy()
    from scipy.signal import resample_poly

    divisor = gcd(source, target)
    out = resample_poly(array, target // divisor, source // divisor)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def rms(samples: np.ndarray) -> float:
    array = to_float32_mono(samples)
    if array.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(array, dtype=np.float64))))


def rms_dbfs(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale (a full-scale sine reads about -3 dBFS)."""
    level = rms(samples)
    if level <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * float(np.log10(level)))


def peak(samples: np.ndarray) -> float:
    array = to_float32_mono(samples)
    return float(np.max(np.abs(array))) if array.size else 0.0


def clipped_fraction(samples: np.ndarray, level: float = CLIP_LEVEL) -> float:
    """Fraction of samples at full scale: a microphone gain set too high shows here."""
    array = np.asarray(samples, dtype=np.float32).reshape(-1)
    if array.size == 0:
        return 0.0
    return float(np.mean(np.abs(array) >= level))


def is_clipping(samples: np.ndarray, max_fraction: float = 0.001, level: float = CLIP_LEVEL) -> bool:
    """More than `max_fraction` of the samples at full scale (a single full-scale click is not)."""
    return clipped_fraction(samples, level) > max_fraction


def duration_s(samples: np.ndarray, sample_rate_hz: int) -> float:
    return float(len(samples)) / check_sample_rate(sample_rate_hz)


def silence(seconds: float, sample_rate_hz: int) -> np.ndarray:
    rate = check_sample_rate(sample_rate_hz)
    return np.zeros(max(0, int(round(float(seconds) * rate))), dtype=np.float32)


def concatenate(parts: Sequence[np.ndarray], sample_rate_hz: int, gap_s: float = 0.0) -> np.ndarray:
    """Join clips with `gap_s` of silence between them (none before the first or after the last)."""
    gap = silence(gap_s, sample_rate_hz)
    pieces: list[np.ndarray] = []
    for i, part in enumerate(parts):
        if i and gap.size:
            pieces.append(gap)
        pieces.append(to_float32_mono(part))
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, dtype=np.float32)


def chunk_samples(chunk_ms: int, sample_rate_hz: int) -> int:
    rate = check_sample_rate(sample_rate_hz)
    if chunk_ms <= 0:
        raise AudioFormatError(f"chunk duration must be positive, got {chunk_ms} ms (set audio.chunk_ms)")
    return max(1, int(round(rate * chunk_ms / 1000.0)))


def iter_chunks(
    samples: np.ndarray, sample_rate_hz: int, chunk_ms: int, pad_last: bool = False
) -> Iterator[np.ndarray]:
    """Fixed-duration chunks, as a microphone delivers them; the last one is shorter unless padded."""
    array = to_float32_mono(samples)
    size = chunk_samples(chunk_ms, sample_rate_hz)
    for start in range(0, array.size, size):
        chunk = array[start : start + size]
        if pad_last and chunk.size < size:
            chunk = np.concatenate([chunk, np.zeros(size - chunk.size, dtype=np.float32)])
        yield chunk


def chunk(
    samples: np.ndarray, sample_rate_hz: int, chunk_ms: int, pad_last: bool = False
) -> list[np.ndarray]:
    return list(iter_chunks(samples, sample_rate_hz, chunk_ms, pad_last))


# ---------------------------------------------------------------------------------------------
# WAV files (16-bit PCM, the format every player and ROS tool reads)
# ---------------------------------------------------------------------------------------------


def write_wav(target: str | Path | BinaryIO, samples: np.ndarray, sample_rate_hz: int) -> None:
    """Write mono 16-bit PCM."""
    rate = check_sample_rate(sample_rate_hz)
    pcm = float_to_int16(samples)
    with wave.open(str(target) if isinstance(target, Path) else target, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())


def wav_bytes(samples: np.ndarray, sample_rate_hz: int) -> bytes:
    buffer = io.BytesIO()
    write_wav(buffer, samples, sample_rate_hz)
    return buffer.getvalue()


def read_wav(source: str | Path | BinaryIO, target_rate_hz: int | None = None) -> tuple[np.ndarray, int]:
    """Read a PCM WAV (8/16/24/32-bit, any channel count) as float32 mono; resample if asked.

    Returns (samples, sample_rate_hz). Compressed or float WAVs raise AudioFormatError saying to
    convert the file (e.g. `sox in.wav -b 16 out.wav`).
    """
    try:
        with wave.open(str(source) if isinstance(source, Path) else source, "rb") as handle:
            channels = handle.getnchannels()
            width = handle.getsampwidth()
            rate = handle.getframerate()
            frames = handle.readframes(handle.getnframes())
    except FileNotFoundError:
        raise AudioFormatError(f"WAV file not found: {source}") from None
    except (wave.Error, EOFError) as error:
        raise AudioFormatError(
            f"cannot read {source} as a PCM WAV file ({error}); convert it, e.g. "
            f"`sox input -b 16 -c 1 output.wav`"
        ) from None
    if width == 1:
        data = np.frombuffer(frames, dtype=np.uint8)
    elif width == 2:
        data = np.frombuffer(frames, dtype="<i2")
    elif width == 3:  # 24-bit: widen to int32 by putting the three bytes in the top of each word
        raw = np.frombuffer(frames, dtype=np.uint8)
        raw = raw[: raw.size - raw.size % 3].reshape(-1, 3)
        data = (
            raw[:, 0].astype(np.int32) << 8
            | raw[:, 1].astype(np.int32) << 16
            | raw[:, 2].astype(np.int32) << 24
        )
    elif width == 4:
        data = np.frombuffer(frames, dtype="<i4")
    else:
        raise AudioFormatError(f"{source}: unsupported sample width {width} bytes; convert to 16-bit PCM")
    if channels > 1:
        # Scale each channel first (to_float32_mono's integer scaling), then average explicitly:
        # the (frames, channels) shape is known here, no need for its layout guess.
        data = data[: data.size - data.size % channels]
        samples = to_float32_mono(to_float32_mono(data).reshape(-1, channels).mean(axis=1))
    else:
        samples = to_float32_mono(data)
    if target_rate_hz is not None and target_rate_hz != rate:
        return resample(samples, rate, target_rate_hz), int(target_rate_hz)
    return samples, rate
