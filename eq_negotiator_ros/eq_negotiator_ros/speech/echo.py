"""Acoustic echo cancellation: the microphone hears the person, not the robot's own voice.

A robot that listens while it speaks hears itself through its microphone: late (device buffers,
the sound's path), quieter and reverberated (speech/room.py simulates that). Its voice is speech,
so a voice activity detector fires on it and the robot would interrupt itself. What the
loudspeaker played is known (the TTS node's audio/out), so it is the reference:

1. `ReferenceTimeline` places the played audio on the clock by each chunk's stamp (the time it is
   heard) and reads it back at the microphone's rate for any stretch of microphone time.
2. `EchoCanceller` estimates the echo's delay by cross-correlation (GCC-PHAT) of the microphone
   against the reference, then a partitioned-block frequency-domain NLMS filter (the MDF echo
   canceller's structure, as in Speex) learns the room's response from there on and subtracts the
   echo it predicts.
3. A double-talk rule: the residual's level against the level of what was played recently (the
   echo that can still be in the room) is tracked while only the robot is heard; a block well above
   that level is the person (near end). The filter learns only when no one else talks, and blocks
   judged to be echo only are silenced before the VAD: it sees the person, not the robot.

PyPI echo cancellers were weighed: `speexdsp` and `webrtc-audio-processing` bindings have had no
release since 2018-2019 and ship no wheels (they need a compiler and the C libraries); `livekit`'s
AudioProcessingModule (WebRTC AEC3) is maintained and ships wheels, but brings a 12 MB native
runtime and the LiveKit SDK for one function and wants 10 ms frames with its own delay hint.
This module is numpy only, and its parts are tested on their own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from math import gcd

import numpy as np

from ..config import AsrConfig
from .audio import to_float32_mono

BLOCK_SAMPLES = 256  # 16 ms at 16 kHz: the filter's block and the double-talk rule's step
# The reference is silent below this power (about -60 dBFS): no echo to expect from it.
REFERENCE_FLOOR_POWER = 1e-6
# GCC-PHAT over this much history, re-estimated every DELAY_UPDATE_BLOCKS while the robot speaks;
# a new delay is taken when two estimates in a row agree within a block.
DELAY_WINDOW_S = 1.0
DELAY_UPDATE_BLOCKS = 16
# A GCC-PHAT peak this many times the mean of the other lags is an echo: a loudspeaker's echo gives
# 20-400 (down to -25 dB, in noise at -45 dBFS); the person's speech against the robot's gives
# chance peaks mostly below 10, but in the same synthetic voice now and then far above (echo_share
# below tells them apart).
DELAY_CLARITY = 15.0
# A delay GCC-PHAT finds is taken only if a linear filter of the reference at that delay explains
# this share of the microphone's energy (echo_share): a loudspeaker's echo gives most of it, the
# person's voice next to the robot's almost none (the same synthetic voice gives GCC-PHAT peaks
# above DELAY_CLARITY now and then over a long conversation, and a false delay would make the
# double-talk rule take the person for the robot's echo and silence them).
ECHO_SHARE_MIN = 0.5
# The filter starts this many blocks before the estimated delay, so an estimate a little late
# (or jitter in the stamps) still falls inside it.
PRE_DELAY_BLOCKS = 1
# What the robot alone leaves (residual over the loudest echo that can be in the room, in dB) is
# tracked as an upper quantile: up quickly, down slowly (about the 90th percentile, rise/fall
# = 10), over every block where only the robot is heard, its pauses (late reverberation) too.
LEAK_FALL, LEAK_RISE = 0.005, 0.05
# While the robot can be heard, the output is held back this long: the person is recognised a few
# blocks into their first word, and the gate then opens from before it.
LOOKBACK_MS = 320
# Playing this long without finding the echo's delay: the microphone does not hear the loudspeaker.
NO_ECHO_AFTER_S = 1.5
# The noise floor follows a quieter residual at once and a louder one slowly.
NOISE_FALL = 0.3
NOISE_RISE = 0.01
# Blocks of echo seen before the double-talk rule trusts its level (the first reply in a room).
CALIBRATION_BLOCKS = 20
# Near end judged continuously this long while the robot plays: the room changed (volume, a
# moved robot), not a person (whose speech stops the robot well before): learn it again.
RECALIBRATE_AFTER_S = 1.5
# The person is taken to speak over the robot when this many of the last NEAR_END_WINDOW blocks
# are near end (one loud block of residual echo is not enough).
NEAR_END_MIN_BLOCKS, NEAR_END_WINDOW = 2, 4


@dataclass(frozen=True)
class EchoSettings:
    """Attributes:
    max_delay_ms: how late the echo may come (device buffers + the sound's path + stamp offsets).
    filter_ms: the room response the adaptive filter models after the delay (direct path and early
        reverberation; later reverberation is left to the double-talk rule).
    tail_ms: how long after the reference goes silent its echo can still be heard.
    step_size: NLMS step (0-1): larger learns faster, smaller is steadier.
    double_talk_margin_db: how far above the robot's own residual level the microphone must be
        for a block to count as the person.
    hangover_ms: after a near-end block, the microphone stays open this long (word endings).
    """

    sample_rate_hz: int = 16000
    max_delay_ms: int = 300
    filter_ms: int = 128
    tail_ms: int = 400
    step_size: float = 0.5
    double_talk_margin_db: float = 12.0
    hangover_ms: int = 300

    @classmethod
    def from_config(cls, asr: AsrConfig, sample_rate_hz: int = 16000) -> "EchoSettings":
        return cls(
            sample_rate_hz=sample_rate_hz,
            max_delay_ms=asr.echo_max_delay_ms,
            filter_ms=asr.echo_filter_ms,
            tail_ms=asr.echo_tail_ms,
            double_talk_margin_db=asr.double_talk_margin_db,
        )

    def __post_init__(self) -> None:
        if self.max_delay_ms < 0 or self.filter_ms < 16 or self.tail_ms < 0 or self.hangover_ms < 0:
            raise ValueError(
                "asr.echo_max_delay_ms and asr.echo_tail_ms must be >= 0, asr.echo_filter_ms >= 16"
            )
        if not 0.0 < self.step_size <= 1.0:
            raise ValueError(f"the echo filter's step size must be in (0, 1], got {self.step_size}")


def _blocks(ms: float, rate_hz: int) -> int:
    return max(1, int(round(ms * rate_hz / 1000.0 / BLOCK_SAMPLES)))


class ReferenceTimeline:
    """What the loudspeaker played, on the microphone's sample clock (sample index = time x rate).

    add(start_s, samples, rate) places a chunk by its stamp (when it is heard). Chunks that follow
    one another within `join_tolerance_s` are joined sample for sample (their stamps jitter; the
    sound does not), and resampled as one stream so chunk edges leave no trace. read(index, n)
    gives the reference for n microphone samples from a sample index, zeros where nothing played.
    """

    def __init__(self, rate_hz: int = 16000, keep_s: float = 4.0, join_tolerance_s: float = 0.015):
        self.rate_hz = rate_hz
        self._keep = int(keep_s * rate_hz)
        self._tolerance = int(join_tolerance_s * rate_hz)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # sample index of _buffer[0]
        self._run_next = None  # sample index where the current run's next output sample goes
        self._native = np.zeros(0, dtype=np.float32)  # the run's source samples not yet resampled
        self._native_rate = 0
        self._native_done = 0  # source samples of _native already turned into output (whole units)

    def index_of(self, time_s: float) -> int:
        return int(round(time_s * self.rate_hz))

    @property
    def end_index(self) -> int:
        """Sample index just after the last reference sample known."""
        return self._buffer_start + self._buffer.size

    def add(self, start_s: float, samples: np.ndarray, source_rate_hz: int) -> None:
        audio = to_float32_mono(samples)
        if audio.size == 0:
            return
        start = self.index_of(start_s)
        expected = None if self._run_next is None else self._run_next + self._pending_output()
        if expected is None or abs(start - expected) > self._tolerance or source_rate_hz != self._native_rate:
            self.flush()
            self._run_next, self._native_rate = start, int(source_rate_hz)
            self._native, self._native_done = np.zeros(0, dtype=np.float32), 0
        self._native = np.concatenate([self._native, audio])
        self._convert(final=False)

    def flush(self) -> None:
        """Resample what the current run still holds back (its last few milliseconds). A chunk
        that comes on from there is placed right after it, sample for sample."""
        if self._run_next is not None and self._native.size > self._native_done:
            up, down = self._ratio()
            real_end = self._run_next + (self._native.size - self._native_done) * up // down
            self._convert(final=True)  # pads to whole units: the padding is not kept
            self._run_next = real_end
            self._native, self._native_done = np.zeros(0, dtype=np.float32), 0

    def cut(self, at_s: float) -> None:
        """Nothing was heard from at_s on (the playback stopped, or the reply ended there): what was
        handed out for later is taken back, and the next chunk starts a run of its own."""
        self.flush()
        at = self.index_of(at_s)
        if self._buffer.size and at < self.end_index:
            self._buffer[max(0, at - self._buffer_start) :] = 0.0
        self._run_next = None
        self._native, self._native_done = np.zeros(0, dtype=np.float32), 0

    def read(self, start_index: int, count: int) -> np.ndarray:
        if start_index + count > self.end_index:
            # Asked past what is converted: the playback stopped (a barge-in sends no end marker),
            # so the last few milliseconds held back for context are what was heard last.
            self.flush()
        out = np.zeros(count, dtype=np.float32)
        lo = max(start_index, self._buffer_start)
        hi = min(start_index + count, self.end_index)
        if hi > lo:
            offset = self._buffer_start
            out[lo - start_index : hi - start_index] = self._buffer[lo - offset : hi - offset]
        return out

    # -- internals -----------------------------------------------------------------------------

    def _ratio(self) -> tuple[int, int]:
        divisor = gcd(self.rate_hz, self._native_rate)
        return self.rate_hz // divisor, self._native_rate // divisor  # (up, down)

    def _pending_output(self) -> int:
        """Output samples the run's source samples not yet converted will make."""
        up, down = self._ratio()
        return (self._native.size - self._native_done) * up // down

    def _convert(self, final: bool) -> None:
        """Resample whole units (down source samples -> up output samples) with context either side,
        holding the last unit back until the next chunk gives it its right-hand context."""
        from scipy.signal import resample_poly

        up, down = self._ratio()
        units_available = self._native.size // down
        units_done = self._native_done // down
        units_target = units_available if final else units_available - 1
        if final and self._native.size % down:
            pad = down - self._native.size % down
            self._native = np.concatenate([self._native, np.zeros(pad, dtype=np.float32)])
            units_target = self._native.size // down
        if units_target <= units_done:
            return
        context_units = 2
        lo_unit = max(0, units_done - context_units)
        hi_unit = min(self._native.size // down, units_target + (0 if final else 1))
        piece = self._native[lo_unit * down : hi_unit * down]
        if up == down:
            converted = piece
        else:
            converted = resample_poly(piece, up, down).astype(np.float32)
        new = converted[(units_done - lo_unit) * up : (units_target - lo_unit) * up]
        self._write(self._run_next, new)
        self._run_next += new.size
        self._native_done = units_target * down
        # Keep the context the next conversion needs, not the whole run.
        drop_units = max(0, units_target - context_units)
        if drop_units:
            self._native = self._native[drop_units * down :]
            self._native_done -= drop_units * down

    def _write(self, start: int, samples: np.ndarray) -> None:
        if self._buffer.size == 0 or start > self.end_index + self._keep or start < self._buffer_start:
            self._buffer, self._buffer_start = np.zeros(0, dtype=np.float32), start
        end = start + samples.size
        if end > self.end_index:
            self._buffer = np.concatenate([self._buffer, np.zeros(end - self.end_index, dtype=np.float32)])
        self._buffer[start - self._buffer_start : end - self._buffer_start] = samples
        if self._buffer.size > self._keep:
            cut = self._buffer.size - self._keep
            self._buffer = self._buffer[cut:]
            self._buffer_start += cut


class MicrophoneClock:
    """The sample index of each microphone chunk on the reference's clock. A chunk's stamp is the
    time its last sample was captured (a live microphone publishes what it has just recorded);
    consecutive chunks are joined sample for sample while their stamps agree within the tolerance,
    so stamp jitter does not shift the echo under the filter."""

    def __init__(self, rate_hz: int = 16000, join_tolerance_s: float = 0.03):
        self.rate_hz = rate_hz
        self._tolerance = int(join_tolerance_s * rate_hz)
        self._next: int | None = None
        self.gap = 0

    def start_of(self, end_stamp_s: float, count: int) -> int:
        start = int(round(end_stamp_s * self.rate_hz)) - count
        self.gap = 0  # microphone samples lost just before this chunk (dropped chunks)
        if self._next is not None and abs(start - self._next) <= self._tolerance:
            start = self._next
        elif self._next is not None and start > self._next:
            self.gap = start - self._next
        self._next = start + count
        return start


def estimate_delay(microphone: np.ndarray, reference: np.ndarray, max_lag: int) -> tuple[int, float]:
    """GCC-PHAT: the lag (0..max_lag samples) by which `microphone` follows `reference`, and how
    clear the peak is (peak over the mean magnitude of the other lags; see DELAY_CLARITY).
    `reference` holds max_lag more samples of history than `microphone` (it starts earlier)."""
    size = 1 << int(np.ceil(np.log2(reference.size + microphone.size)))
    spectrum = np.fft.rfft(microphone, size) * np.conj(np.fft.rfft(reference, size))
    spectrum /= np.maximum(np.abs(spectrum), 1e-12)
    correlation = np.fft.irfft(spectrum, size)
    # microphone[n] ~ reference[n + max_lag - lag], and correlation[k] = sum microphone[n + k] *
    # reference[n]: the echo's lag shows at k = lag - max_lag (mod size).
    lags = np.arange(max_lag + 1)
    values = np.abs(correlation[(lags - max_lag) % size])
    best = int(np.argmax(values))
    others = np.delete(values, best)
    clarity = float(values[best] / max(float(np.mean(others)) if others.size else 0.0, 1e-12))
    return best, clarity


def echo_share(microphone: np.ndarray, reference: np.ndarray, segment: int = 1024) -> float:
    """How much of the microphone's energy a linear filter of `reference` (already aligned to it)
    explains, 0-1: the mean of the squared coherence over frequency, weighted by the microphone's
    spectrum (Welch averages over half-overlapping segments). A loudspeaker's echo is linear in
    what was played and gives most of it; a person's voice gives about 1 / (number of segments),
    however alike two voices are."""
    if microphone.size < segment or reference.size != microphone.size:
        return 0.0
    window = np.hanning(segment)
    starts = range(0, microphone.size - segment + 1, segment // 2)
    mic = np.stack([np.fft.rfft(window * microphone[i : i + segment]) for i in starts])
    ref = np.stack([np.fft.rfft(window * reference[i : i + segment]) for i in starts])
    cross = np.abs(np.sum(mic * np.conj(ref), axis=0)) ** 2
    explained = cross / np.maximum(np.sum(np.abs(ref) ** 2, axis=0), 1e-20)
    total = float(np.sum(np.abs(mic) ** 2))
    return float(np.sum(explained)) / total if total > 0 else 0.0


@dataclass
class EchoFrame:
    """What one process() call gives back.

    samples: the microphone with the robot's echo removed, and silenced where only the echo was
        heard: what the recogniser should hear. While the robot's sound can be in the room it
        comes LOOKBACK_MS late, so that when the person is recognised (a few blocks into their
        first word) the gate opens from before their first word; it catches up when the robot's
        sound is over (and up to NO_ECHO_AFTER_S late while the robot's echo is still being looked for:
        if none shows, all of it is let through). Over time, every microphone sample comes out
        once, in order.
    live: the residual as it is now, neither gated nor delayed: with person_over_echo, for
        deciding at once that the person talks (barge-in); the person is loudest in it.
    echo_active: the robot's sound can be in the microphone (the reference or its tail).
    person_over_echo: the person's voice is heard over the robot's (the double-talk rule).
    """

    samples: np.ndarray = field(repr=False)
    live: np.ndarray = field(repr=False)
    echo_active: bool
    person_over_echo: bool


class EchoCanceller:
    """process(microphone, reference) -> EchoFrame, block by block (any chunk length).

    `reference` is what the loudspeaker played during the same stretch of time as `microphone`
    (ReferenceTimeline.read at the microphone's sample index); the echo comes later than that by
    the delay this class estimates.
    """

    def __init__(self, settings: EchoSettings | None = None) -> None:
        self.settings = settings or EchoSettings()
        rate = self.settings.sample_rate_hz
        self._max_lag = int(self.settings.max_delay_ms * rate / 1000)
        self._partitions = _blocks(self.settings.filter_ms, rate) + PRE_DELAY_BLOCKS
        self._tail_blocks = _blocks(self.settings.tail_ms + self.settings.max_delay_ms, rate)
        self._hangover_blocks = _blocks(self.settings.hangover_ms, rate)
        self._margin_db = self.settings.double_talk_margin_db
        self._recalibrate_blocks = _blocks(RECALIBRATE_AFTER_S * 1000, rate)
        history = self._max_lag + int(DELAY_WINDOW_S * rate) + (self._partitions + 2) * BLOCK_SAMPLES
        self._reference = np.zeros(history, dtype=np.float32)
        self._microphone = np.zeros(int(DELAY_WINDOW_S * rate), dtype=np.float32)
        self._pending_mic = np.zeros(0, dtype=np.float32)
        self._pending_ref = np.zeros(0, dtype=np.float32)
        self.delay_samples = 0
        self._delay_candidate: int | None = None
        self._blocks_since_estimate = 0
        self._delay_known = False
        self.last_estimate: tuple[int, float] = (0, 0.0)  # (lag, clarity) of the latest GCC-PHAT
        self.filter_resets = 0  # times a new delay put the filter back to zero
        self.rejected_delays = 0  # GCC-PHAT peaks that no linear echo explains (not the robot)
        # (residual dB, what the robot alone would leave, dB) of the latest judged blocks: for logs.
        self.recent_judgements: deque[tuple[float, float]] = deque(maxlen=8)
        self._unmatched_blocks = 0  # blocks played while no echo delay could be found
        self._no_echo_blocks = _blocks(NO_ECHO_AFTER_S * 1000, rate)
        self._max_lag_blocks = _blocks(self.settings.max_delay_ms, rate)
        self._reference_powers: deque[float] = deque(
            [0.0] * (self._tail_blocks + 2), maxlen=self._tail_blocks + 2
        )
        self._recent_near_end: deque[bool] = deque(maxlen=NEAR_END_WINDOW)
        self._reset_filter()
        self.leak_db = 0.0
        self.noise_db: float | None = None  # set by the first block
        self._calibration = 0
        self._hangover = 0
        self._lookback_blocks = _blocks(LOOKBACK_MS, rate)
        self._held: deque[list] = deque()  # [residual block, gate open] waiting to be output
        self._near_end_run = 0
        self.blocks = 0
        self.near_end_blocks = 0

    # -- public -----------------------------------------------------------------------------------

    @property
    def echo_path_found(self) -> bool:
        """The robot's echo has been found in the microphone (its delay is known)."""
        return self._delay_known

    @property
    def delay_ms(self) -> float:
        return 1000.0 * self.delay_samples / self.settings.sample_rate_hz

    def process(self, microphone: np.ndarray, reference: np.ndarray) -> EchoFrame:
        mic, ref = to_float32_mono(microphone), to_float32_mono(reference)
        if ref.size != mic.size:
            raise ValueError(f"the reference must cover the microphone's samples: {ref.size} != {mic.size}")
        self._pending_mic = np.concatenate([self._pending_mic, mic])
        self._pending_ref = np.concatenate([self._pending_ref, ref])
        outputs, live, active, person = [], [], False, False
        while self._pending_mic.size >= BLOCK_SAMPLES:
            block_mic, block_ref = self._pending_mic[:BLOCK_SAMPLES], self._pending_ref[:BLOCK_SAMPLES]
            self._pending_mic = self._pending_mic[BLOCK_SAMPLES:]
            self._pending_ref = self._pending_ref[BLOCK_SAMPLES:]
            residual, block_active, block_person = self._process_block(block_mic, block_ref)
            is_open = not block_active or self._hangover > 0
            live.append(residual)
            outputs.extend(self._hold_back(residual, is_open, block_active, block_person))
            active = active or block_active
            person = person or block_person
        return EchoFrame(
            samples=np.concatenate(outputs) if outputs else np.zeros(0, dtype=np.float32),
            live=np.concatenate(live) if live else np.zeros(0, dtype=np.float32),
            echo_active=active,
            person_over_echo=person,
        )

    def _hold_back(self, residual: np.ndarray, is_open: bool, active: bool, person: bool) -> list[np.ndarray]:
        """The delayed, retroactively gated output: the blocks that leave the look-back queue."""
        self._held.append([residual, is_open])
        no_echo = self._unmatched_blocks >= self._no_echo_blocks
        if person or no_echo:
            # The person's first word began before they were recognised; or this microphone
            # turned out not to hear the robot at all: what was held back was never its echo.
            for held in self._held:
                held[1] = True
        # While the echo is still being looked for, everything is held back (up to NO_ECHO_AFTER_S):
        # the person who was talking when the robot began is let through if no echo shows.
        searching = active and not self._delay_known
        keep = (
            self._no_echo_blocks + self._lookback_blocks
            if searching
            else self._lookback_blocks
            if active
            else 0
        )
        out = []
        while len(self._held) > keep:
            block, passed = self._held.popleft()
            out.append(block if passed else np.zeros_like(block))
        return out

    def skip(self, reference: np.ndarray) -> None:
        """The microphone lost these samples (chunks dropped on the way): what was played meanwhile
        is taken in, so the filter and its history stay in step with the room; nothing is output,
        learned or judged from the missing stretch."""
        ref = to_float32_mono(reference)
        self._pending_mic = np.concatenate([self._pending_mic, np.zeros(ref.size, dtype=np.float32)])
        self._pending_ref = np.concatenate([self._pending_ref, ref])
        while self._pending_mic.size >= BLOCK_SAMPLES:
            block_ref = self._pending_ref[:BLOCK_SAMPLES]
            self._pending_mic = self._pending_mic[BLOCK_SAMPLES:]
            self._pending_ref = self._pending_ref[BLOCK_SAMPLES:]
            self._reference = np.concatenate([self._reference[BLOCK_SAMPLES:], block_ref])
            self._microphone = np.concatenate([self._microphone[BLOCK_SAMPLES:], np.zeros(BLOCK_SAMPLES)])
            self._reference_powers.append(float(np.mean(block_ref.astype(np.float64) ** 2)))
            self._predict(self._aligned_block())  # the filter's input history moves on
            self._recent_near_end.append(False)
        self._blocks_since_estimate = -DELAY_UPDATE_BLOCKS * 4  # no estimate over the hole

    # -- one block --------------------------------------------------------------------------------

    def _process_block(self, mic: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, bool, bool]:
        """(residual, echo active, the person talks over the echo) of one block."""
        self.blocks += 1
        self._reference = np.concatenate([self._reference[BLOCK_SAMPLES:], ref])
        self._microphone = np.concatenate([self._microphone[BLOCK_SAMPLES:], mic])
        self._reference_powers.append(float(np.mean(ref.astype(np.float64) ** 2)))
        envelope = self._echo_envelope()
        playing = envelope > REFERENCE_FLOOR_POWER
        self._maybe_estimate_delay(playing)
        if playing and not self._delay_known:
            self._unmatched_blocks += 1
        # No echo found after a while of playing: this microphone does not hear the loudspeaker
        # (a headset, a simulated microphone): nothing to take out, and nothing to gate.
        active = playing and (self._delay_known or self._unmatched_blocks < self._no_echo_blocks)
        aligned = self._aligned_block()
        residual = mic - self._predict(aligned)
        if not active:
            self._track_noise(10.0 * np.log10(max(float(np.mean(residual.astype(np.float64) ** 2)), 1e-12)))
            self._recent_near_end.append(False)
            self._near_end_run = 0
            self._hangover = 0
            return residual.astype(np.float32), False, False
        # While the person talks (and a little after) nothing is learned from the microphone: their
        # softer sounds are not the robot's echo, and would throw the filter and its level off.
        learn = self._hangover == 0
        near_end = self._judge(residual, envelope, learn)
        if not near_end and learn and self._delay_known:  # a filter not placed on the echo learns nothing
            self._adapt(residual)
        # The gate opens on the person (several near-end blocks), not on one loud block of echo.
        person = sum(self._recent_near_end) >= NEAR_END_MIN_BLOCKS
        self._hangover = self._hangover_blocks if person else max(0, self._hangover - 1)
        return residual.astype(np.float32), True, person

    def _echo_envelope(self) -> float:
        """The loudest reference block whose echo can be in the microphone now (from the delay to
        the delay plus the tail; any delay up to the largest while it is not known)."""
        powers = list(self._reference_powers)  # newest last: lag L blocks is powers[-1 - L]
        if not self._delay_known:
            return max(powers)
        delay = int(self.delay_samples // BLOCK_SAMPLES)
        first, tail = max(0, delay - 1), self._tail_blocks - self._max_lag_blocks
        return max(powers[max(0, len(powers) - 1 - delay - tail) : len(powers) - first])

    def _judge(self, residual: np.ndarray, envelope: float, learn: bool = True) -> bool:
        """The double-talk rule: is this block the person (near end) rather than the echo? The
        residual is measured against the loudest echo that can be in the room now, and compared
        with what the robot alone leaves there (learned from the blocks judged to be echo)."""
        power_db = 10.0 * np.log10(max(float(np.mean(residual.astype(np.float64) ** 2)), 1e-12))
        ratio_db = power_db - 10.0 * np.log10(envelope)
        if self.noise_db is None:
            self.noise_db = power_db
        echo_heard = power_db > self.noise_db + 3.0  # something of the robot is left, not only noise
        if self._calibration < CALIBRATION_BLOCKS or not self._delay_known:
            # Until the echo's delay and level are known (the first second a robot speaks in a
            # room), everything heard while it plays is taken for its echo.
            if echo_heard:
                # Learning the echo's level: the loudest residual of the calibration blocks, so the
                # rule starts cautious and comes down as the filter converges.
                self.leak_db = ratio_db if self._calibration == 0 else max(self.leak_db, ratio_db)
                self._calibration += 1
            near_end = False
        else:
            # What the robot alone would leave here: its echo's residual plus the room's noise.
            expected = envelope * 10.0 ** (self.leak_db / 10.0) + 10.0 ** (self.noise_db / 10.0)
            near_end = power_db > 10.0 * np.log10(expected) + self._margin_db
            self.recent_judgements.append((round(power_db, 1), round(10.0 * np.log10(expected), 1)))
        if not near_end and learn:
            if echo_heard:
                rate = LEAK_FALL if ratio_db < self.leak_db else LEAK_RISE
                self.leak_db += rate * (ratio_db - self.leak_db)
            self._track_noise(power_db)
        self._near_end_run = self._near_end_run + 1 if near_end else 0
        if self._near_end_run > self._recalibrate_blocks:
            self._calibration, self._near_end_run = 0, 0
        self._recent_near_end.append(near_end)
        self.near_end_blocks += int(near_end)
        return near_end

    def _track_noise(self, power_db: float) -> None:
        """The room's noise floor: the quietest residual lately (falls at once, rises slowly)."""
        if self.noise_db is None:
            self.noise_db = power_db
        rate = NOISE_FALL if power_db < self.noise_db else NOISE_RISE
        self.noise_db += rate * (power_db - self.noise_db)

    # -- delay --------------------------------------------------------------------------------

    def _maybe_estimate_delay(self, active: bool) -> None:
        self._blocks_since_estimate += 1
        if not active or self._blocks_since_estimate < DELAY_UPDATE_BLOCKS or any(self._recent_near_end):
            return
        self._blocks_since_estimate = 0
        window = self._microphone.size
        reference = self._reference[-(window + self._max_lag) :]
        if float(np.mean(reference[-window:].astype(np.float64) ** 2)) <= REFERENCE_FLOOR_POWER:
            return
        lag, clarity = estimate_delay(self._microphone, reference, self._max_lag)
        self.last_estimate = (lag, clarity)
        if clarity < DELAY_CLARITY:
            return
        aligned = reference[self._max_lag - lag : self._max_lag - lag + window]
        share = echo_share(self._microphone.astype(np.float64), aligned.astype(np.float64))
        if share < ECHO_SHARE_MIN:
            self.rejected_delays += 1
            return
        agreed = self._delay_candidate is not None and abs(lag - self._delay_candidate) < BLOCK_SAMPLES
        self._delay_candidate = lag
        if agreed and (abs(lag - self.delay_samples) >= BLOCK_SAMPLES // 2 or not self._delay_known):
            self._delay_known, self._unmatched_blocks = True, 0
            self.delay_samples = lag
            self._reset_filter()
            self.filter_resets += 1
            self._calibration = 0  # the residual's level starts again with the new filter

    # -- the adaptive filter (partitioned-block frequency-domain NLMS, overlap-save) -----------

    def _reset_filter(self) -> None:
        size = 2 * BLOCK_SAMPLES
        self._weights = np.zeros((self._partitions, size // 2 + 1), dtype=np.complex128)
        self._spectra = np.zeros_like(self._weights)  # newest first
        self._power = np.full(size // 2 + 1, 1e-6)
        self._previous_aligned = np.zeros(BLOCK_SAMPLES, dtype=np.float64)

    def _aligned_block(self) -> np.ndarray:
        """The reference block that lines up with this microphone block, PRE_DELAY_BLOCKS early."""
        offset = max(0, self.delay_samples - PRE_DELAY_BLOCKS * BLOCK_SAMPLES)
        end = self._reference.size - offset
        return self._reference[end - BLOCK_SAMPLES : end].astype(np.float64)

    def _predict(self, aligned: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(np.concatenate([self._previous_aligned, aligned]))
        self._previous_aligned = aligned
        self._spectra = np.roll(self._spectra, 1, axis=0)
        self._spectra[0] = spectrum
        echo = np.fft.irfft(np.sum(self._weights * self._spectra, axis=0))[BLOCK_SAMPLES:]
        return echo

    def _adapt(self, residual: np.ndarray) -> None:
        # NLMS: the step is divided by the reference's energy over the filter's length, per
        # frequency; never by less than what is there now (a word's onset after a pause would
        # otherwise take a step hundreds of times too large and throw the filter off).
        energy = np.sum(np.abs(self._spectra) ** 2, axis=0)
        if float(np.mean(energy)) <= REFERENCE_FLOOR_POWER * BLOCK_SAMPLES:
            return
        self._power = 0.7 * self._power + 0.3 * energy
        normaliser = np.maximum(self._power, energy) + 1e-2 * float(np.mean(energy)) + 1e-10
        error = np.fft.rfft(np.concatenate([np.zeros(BLOCK_SAMPLES), residual.astype(np.float64)]))
        gradient = np.conj(self._spectra) * (error / normaliser)[None, :]
        # Keep the filter causal and one block long per partition (the overlap-save constraint).
        impulse = np.fft.irfft(gradient, axis=1)
        impulse[:, BLOCK_SAMPLES:] = 0.0
        self._weights += self.settings.step_size * np.fft.rfft(impulse, axis=1)
