"""A simulated room: what the robot's microphone hears while its loudspeaker plays.

The robot's own voice comes back into the microphone late (the output device's buffer, the
input device's, the sound's path), quieter, and smeared by the room's reverberation; the room
adds its own noise, and the person speaks on top. `SimulatedRoom` builds that signal block by
block (a stream, as a microphone delivers it), so the echo canceller (speech/echo.py), the
barge-in rule and the bench can be tried without a loudspeaker. Pure: arrays in, arrays out; the
noise comes from a seeded generator, so a room replays the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .audio import to_float32_mono


@dataclass(frozen=True)
class RoomSettings:
    """Attributes:
    echo_delay_ms: loudspeaker to microphone, device buffers included.
    echo_gain_db: level of the direct echo against what was played (a loudspeaker close to the
        microphone: about -6 dB; across a table: -20 dB).
    reverb_time_s: RT60 of the room's tail (a furnished room: 0.2-0.5 s).
    reverb_level_db: energy of the tail against the direct echo.
    noise_dbfs: RMS of the room's noise (fans, street) at the microphone.
    seed: the noise and the tail's random phases.
    """

    sample_rate_hz: int = 16000
    echo_delay_ms: float = 40.0
    echo_gain_db: float = -6.0
    reverb_time_s: float = 0.25
    reverb_level_db: float = -10.0
    noise_dbfs: float = -55.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.echo_delay_ms < 0 or self.reverb_time_s < 0:
            raise ValueError("a room's echo_delay_ms and reverb_time_s must be >= 0")


def impulse_response(settings: RoomSettings) -> np.ndarray:
    """Loudspeaker -> microphone: silence for the delay, the direct path, then an exponentially
    decaying diffuse tail (60 dB down after reverb_time_s) with reverb_level_db of its energy."""
    rate = settings.sample_rate_hz
    delay = int(round(settings.echo_delay_ms * rate / 1000.0))
    direct = 10.0 ** (settings.echo_gain_db / 20.0)
    tail_samples = int(round(settings.reverb_time_s * rate))
    response = np.zeros(delay + 1 + tail_samples, dtype=np.float64)
    response[delay] = direct
    if tail_samples:
        rng = np.random.default_rng(settings.seed + 1)
        times = np.arange(1, tail_samples + 1) / rate
        # -60 dB at reverb_time_s: amplitude exp(-6.9 t / RT60).
        tail = rng.standard_normal(tail_samples) * np.exp(-6.908 * times / settings.reverb_time_s)
        tail *= direct * 10.0 ** (settings.reverb_level_db / 20.0) / max(np.sqrt(np.sum(tail**2)), 1e-12)
        response[delay + 1 :] = tail
    return response


class SimulatedRoom:
    """microphone(played, person) per block: the echo of what the loudspeaker played (in the
    same block of time), the room's noise and the person's voice. Blocks may have any length;
    the reverberation of one block carries into the next."""

    def __init__(self, settings: RoomSettings | None = None) -> None:
        self.settings = settings or RoomSettings()
        self.response = impulse_response(self.settings)
        self._tail = np.zeros(self.response.size - 1, dtype=np.float64)
        self._rng = np.random.default_rng(self.settings.seed)
        self._noise_rms = 10.0 ** (self.settings.noise_dbfs / 20.0)

    def echo(self, played: np.ndarray) -> np.ndarray:
        """The loudspeaker's sound as the microphone hears it (overlap-add across blocks)."""
        from scipy.signal import fftconvolve

        block = to_float32_mono(played).astype(np.float64)
        if block.size == 0:
            return np.zeros(0, dtype=np.float32)
        full = fftconvolve(block, self.response)
        full[: self._tail.size] += self._tail
        out = full[: block.size]
        rest = full[block.size :]
        self._tail = np.zeros(self.response.size - 1, dtype=np.float64)
        self._tail[: rest.size] = rest[: self._tail.size]
        return out.astype(np.float32)

    def microphone(self, played: np.ndarray, person: np.ndarray | None = None) -> np.ndarray:
        """One block of the microphone signal: echo + noise (+ the person, same length or shorter)."""
        signal = self.echo(played).astype(np.float64)
        signal += self._rng.standard_normal(signal.size) * self._noise_rms
        if person is not None:
            voice = to_float32_mono(person)[: signal.size]
            signal[: voice.size] += voice
        return np.clip(signal, -1.0, 1.0).astype(np.float32)


def mix(played: np.ndarray, person: np.ndarray | None, settings: RoomSettings | None = None) -> np.ndarray:
    """The whole microphone recording at once (the person's voice from sample 0; pad it to place it)."""
    played = to_float32_mono(played)
    voice = None if person is None else to_float32_mono(person)
    length = max(played.size, 0 if voice is None else voice.size)
    padded = np.zeros(length, dtype=np.float32)
    padded[: played.size] = played
    return SimulatedRoom(settings).microphone(padded, voice)
