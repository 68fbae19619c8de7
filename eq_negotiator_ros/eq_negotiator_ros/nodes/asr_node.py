"""asr_node: end-of-utterance detection (Silero VAD) and speech recognition (faster-whisper).

audio/in (AudioChunk, best effort with 2 s of queue) -> speech (Utterance with timing and prosody).
The robot hears itself: what it plays (audio/out, stamped with when it is heard) is the reference
of an echo filter (speech/echo.py, asr.echo_cancellation), and the VAD hears the microphone with
the robot's voice taken out, all the time: the person's words while the robot speaks or right as
it stops are heard from the first one, its own voice never becomes a turn. With asr.barge_in, the
person's voice over the robot's publishes barge_in (the reply stops) and what they say is their
next turn. Without echo cancellation the input is muted while robot_speaking is true (the speech
in progress when the robot starts ends as if silence followed), unless barge-in is on.
Noise, silence and empty transcripts never become a turn.

Speculative end of turn (asr.speculative_silence_ms): after a short silence the segmenter hands out
the utterance as it would end there and recognition starts at once; when the silence reaches
asr.min_silence_ms the text already recognised is published, and when the person goes on talking it
is thrown away unpublished. /diagnostics counts the starts and the discards.

A turn said with a pause longer than asr.min_silence_ms reaches the graph in parts, the first
answered at once. A part that begins before the answer to the part before it has been spoken to its
end (within asr.continuation_window_ms of it) continues that turn: it is published joined to it,
the text of both with the first part's start_time, and the reasoning node answers the whole turn
in place of the answer to its first part.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Bool, Empty

from eq_negotiator_interfaces.msg import AudioChunk, Utterance

from ..speech.asr import SpeechRecognizer
from ..speech.audio import AudioFormatError, resample, to_float32_mono
from ..speech.echo import EchoCanceller, EchoSettings, MicrophoneClock, ReferenceTimeline
from ..speech.prosody import ProsodyFeatures, extract_prosody
from ..speech.vad import (
    DISCARD,
    FINAL,
    TENTATIVE,
    SegmentEvent,
    SpeechSegment,
    UtteranceSegmenter,
    VadSettings,
)
from . import topics, workers
from .lifecycle import ModelNode, run_model_node

# A microphone chunk waits this long at most for the robot's audio played over it (the echo
# reference); past that it is heard as it is.
MAX_REFERENCE_WAIT_S = 0.5


def _to_time(seconds: float) -> Time:
    whole = int(seconds)
    return Time(sec=whole, nanosec=int((seconds - whole) * 1e9))


@dataclass(frozen=True)
class Published:
    """The utterance published last, in stream seconds (what a continuation is joined to)."""

    text: str
    start_s: float
    end_s: float


@dataclass
class Speculation:
    """One tentative utterance: recognised ahead of the confirmed end of the turn."""

    segment: SpeechSegment
    result: Optional[tuple] = None  # (transcript, prosody) once recognised
    committed_at: Optional[float] = None  # perf_counter when the end of the turn was confirmed
    discarded: bool = False
    published: bool = False


class AsrNode(ModelNode):
    def __init__(self, **node_options) -> None:
        super().__init__("asr_node", **node_options)
        self.rate_hz = self.config.audio.sample_rate_hz
        self.recognizer: Optional[SpeechRecognizer] = None
        self.load_time_s = 0.0
        self.utterances = 0
        self.rejected_segments = 0
        self.last_asr_s = 0.0
        self.speculation: Optional[Speculation] = None
        self.speculation_lock = threading.Lock()  # the executor and the recognition worker share it
        self.speculative_starts = 0
        self.speculative_discards = 0
        self.continuations = 0
        self.last_published: Optional[Published] = None
        # Since the last utterance was published: did the robot start answering it, and when (stream
        # seconds) was that answer over?
        self.answer_started = False
        self.answer_over_at_s: Optional[float] = None

    def load(self) -> None:
        started = time.perf_counter()
        self.recognizer = SpeechRecognizer(self.config.asr)
        self.load_time_s = time.perf_counter() - started
        self.get_logger().info(f"speech recognition loaded in {self.load_time_s:.1f} s")

    def warm_up(self) -> None:
        # Whisper and the Silero VAD, each run once: the first turn is as fast as the others.
        self.recognizer.warm_up()
        UtteranceSegmenter(VadSettings.from_config(self.config.asr, self.rate_hz)).push(
            np.zeros(self.rate_hz // 2, dtype=np.float32)
        )
        # The echo path once too (its first resampling imports scipy.signal: a second and more
        # during which the executor would hear neither the microphone nor the reference).
        timeline = ReferenceTimeline(self.rate_hz)
        timeline.add(0.0, np.zeros(2205, dtype=np.float32), 22050)
        EchoCanceller(EchoSettings.from_config(self.config.asr, self.rate_hz)).process(
            np.zeros(1600, dtype=np.float32), timeline.read(0, 1600)
        )

    def unload(self) -> None:
        self.recognizer = None

    def activate_interfaces(self) -> None:
        # A fresh stream: what was heard before a deactivation is not joined to what comes next.
        self.segmenter = UtteranceSegmenter(VadSettings.from_config(self.config.asr, self.rate_hz))
        self.robot_speaking = False
        self.barge_in_sent = False
        self.reference_heard = False
        self.reference_playing = False  # audio/out chunks are coming (no end marker since)
        self.reference_until_s = 0.0  # when the last reference chunk received stops being heard
        self.pending_microphone: deque = deque()  # (samples, message, arrival) not yet handed on
        # Held chunks go on when their reference arrives, or after MAX_REFERENCE_WAIT_S at the latest.
        self.create_timer(0.05, self.drain_microphone)
        self.barge_ins = 0
        self.microphone_gaps = 0
        self.echo: Optional[EchoCanceller] = None
        self.person_over_echo = False
        if self.config.asr.echo_cancellation:
            self.echo = EchoCanceller(EchoSettings.from_config(self.config.asr, self.rate_hz))
            self.reference = ReferenceTimeline(self.rate_hz)
            self.microphone_clock = MicrophoneClock(self.rate_hz)
            # The recogniser's stream comes a little late while the robot is audible (the gate opens
            # back to the person's first word); this VAD hears the residual live, to stop the robot
            # at once when the double-talk rule says the person is loudest in it.
            self.live_vad = UtteranceSegmenter(VadSettings.from_config(self.config.asr, self.rate_hz))
            self.create_subscription(AudioChunk, topics.AUDIO_OUT, self.on_played, topics.AUDIO_REFERENCE_QOS)
        self.stream_origin_s: Optional[float] = None  # wall-clock time of the stream's first sample
        self.warned_rates: set[int] = set()
        self.speech_pub = self.create_publisher(Utterance, topics.SPEECH, topics.RELIABLE_QOS)
        self.barge_in_pub = self.create_publisher(Empty, topics.BARGE_IN, topics.RELIABLE_QOS)
        self.create_subscription(AudioChunk, topics.AUDIO_IN, self.on_audio, topics.MICROPHONE_QOS)
        self.create_subscription(Bool, topics.ROBOT_SPEAKING, self.on_robot_speaking, topics.LATCHED_QOS)
        self.create_subscription(Bool, topics.ROBOT_SPEAKING, self.on_answer_playing, topics.LATCHED_QOS)
        self.worker = workers.JobWorker(
            "asr_recognition",
            lambda job: self.recognise(*job),  # (segment, confirmed-at time or None, Speculation or None)
            lambda error: self.get_logger().error(f"recognition failed: {error}"),
        )

    def deactivate_interfaces(self) -> None:
        self.worker.close()

    def on_robot_speaking(self, message: Bool) -> None:
        # The segmenter is never reset here: speech in progress when the robot starts is the
        # person's, and ends (and is recognised) as usual.
        self.robot_speaking = bool(message.data)
        self.barge_in_sent = False
        self.reference_heard = False  # nothing of this reply has been played yet
        self.drain_microphone()

    def on_played(self, message: AudioChunk) -> None:
        """A chunk the loudspeaker plays, stamped with when it is heard: the echo reference."""
        self.reference_heard = True
        heard_at_s = message.header.stamp.sec + message.header.stamp.nanosec * 1e-9
        if len(message.samples) and message.sample_rate_hz > 0:
            samples = np.asarray(message.samples, dtype=np.float32)
            self.reference.add(heard_at_s, samples, int(message.sample_rate_hz))
            self.reference_playing = True
            self.reference_until_s = heard_at_s + samples.size / message.sample_rate_hz
        elif message.end_of_segment:  # the reply's sound ends at this stamp
            self.reference.cut(heard_at_s)
            self.reference_playing = False
        self.drain_microphone()

    def listen(self, samples: np.ndarray, message: AudioChunk) -> np.ndarray:
        """What the VAD hears of a microphone chunk: the robot's echo taken out (and silenced where
        only the echo was heard); without echo cancellation, silence while the robot speaks
        (unless barge-in is on: then the microphone as it is)."""
        if self.echo is None:
            if self.robot_speaking and not self.config.asr.barge_in:
                return np.zeros_like(samples)
            self.person_over_echo = True
            return samples
        stamp = message.header.stamp.sec + message.header.stamp.nanosec * 1e-9
        start = self.microphone_clock.start_of(stamp if stamp > 0 else time.time(), samples.size)
        gap = self.microphone_clock.gap
        if 0 < gap <= self.rate_hz:  # chunks were lost on the way: keep the filter in step
            self.echo.skip(self.reference.read(start - gap, gap))
            self.microphone_gaps += 1
        frame = self.echo.process(samples, self.reference.read(start, samples.size))
        self.live_vad.push(frame.live)
        # The person's voice over the robot's, or the robot is silent: between replies, or in a
        # pause of one. Before the first sound of a reply arrives the person is heard (nothing is
        # lost), but does not stop it: the reply's sound may be on its way.
        silent = not frame.echo_active and (self.reference_heard or not self.robot_speaking)
        self.person_over_echo = frame.person_over_echo or silent
        return frame.samples

    def live_speech(self) -> bool:
        return self.live_vad.last_speech_probability >= self.config.asr.vad_threshold

    def maybe_barge_in(self) -> None:
        """The person talks while the robot speaks: stop the reply (once per reply)."""
        if (
            self.config.asr.barge_in
            and self.robot_speaking
            and not self.barge_in_sent
            and (self.live_speech() if self.echo is not None else self.segmenter.in_speech)
            and self.person_over_echo
        ):
            self.barge_in_sent = True
            self.barge_ins += 1
            self.barge_in_pub.publish(Empty())
            self.get_logger().info(f"barge-in: the person talks over the robot ({self.echo_state()})")

    def on_audio(self, message: AudioChunk) -> None:
        if len(message.samples) == 0:
            return
        try:
            samples = np.asarray(message.samples, dtype=np.float32)
            if message.channels > 1:
                samples = samples.reshape(-1, message.channels).mean(axis=1)
            samples = to_float32_mono(samples)
            if message.sample_rate_hz != self.rate_hz:
                if message.sample_rate_hz not in self.warned_rates:
                    self.warned_rates.add(message.sample_rate_hz)
                    self.get_logger().warning(
                        f"audio at {message.sample_rate_hz} Hz is resampled to {self.rate_hz} Hz"
                    )
                samples = resample(samples, int(message.sample_rate_hz), self.rate_hz)
        except (AudioFormatError, ValueError) as error:
            self.get_logger().error(f"audio chunk rejected: {error}")
            return
        if self.stream_origin_s is None:
            stamp = message.header.stamp.sec + message.header.stamp.nanosec * 1e-9
            self.stream_origin_s = stamp if stamp > 0 else time.time()
        self.pending_microphone.append((samples, message, time.monotonic()))
        self.drain_microphone()

    def drain_microphone(self) -> None:
        """Hand the microphone chunks on in order, each once what the robot played over it has
        arrived: a busy executor takes one message per topic in turn, so the reference (25 chunks
        a second) can fall behind the microphone (10), and a chunk filtered without its reference
        would hand the robot's own voice to the VAD. A chunk waits at most MAX_REFERENCE_WAIT_S."""
        while self.pending_microphone:
            samples, message, arrived = self.pending_microphone[0]
            if self.reference_behind(message) and time.monotonic() - arrived < MAX_REFERENCE_WAIT_S:
                return
            self.pending_microphone.popleft()
            events = self.segmenter.push_events(self.listen(samples, message))
            self.maybe_barge_in()
            self.handle_segments(events, time.perf_counter())

    def reference_behind(self, message: AudioChunk) -> bool:
        if self.echo is None:
            return False
        if self.robot_speaking and not self.reference_heard:
            return True  # a reply is starting: its first sound is on its way
        stamp = message.header.stamp.sec + message.header.stamp.nanosec * 1e-9
        return self.reference_playing and self.reference_until_s < stamp

    # -- from the segmenter on: tentative, discarded and final utterances -------------------------

    def handle_segments(self, events: list[SegmentEvent], detected_at: float) -> None:
        for event in events:
            if event.kind == TENTATIVE:
                with self.speculation_lock:
                    self.drop_speculation()  # one the segmenter never resolved (it was reset)
                    self.speculation = Speculation(event.segment)
                    self.speculative_starts += 1
                self.worker.put((event.segment, None, self.speculation))
            elif event.kind == DISCARD:
                with self.speculation_lock:
                    self.drop_speculation()
            elif event.kind == FINAL:
                self.confirm(event, detected_at)

    def drop_speculation(self) -> None:
        """The person went on talking: what was recognised is never published (lock held)."""
        if self.speculation is not None and self.speculation.committed_at is None:
            self.speculation.discarded = True
            self.speculative_discards += 1
        self.speculation = None

    def confirm(self, event: SegmentEvent, detected_at: float) -> None:
        """The end of the turn: publish the tentative utterance's text (at once when it is already
        recognised, else as soon as it is), or recognise a final utterance nobody speculated on."""
        with self.speculation_lock:
            speculation = self.speculation
            if not event.confirms_tentative or speculation is None:
                self.drop_speculation()
                speculation = None
            else:
                self.speculation = None
                speculation.committed_at = detected_at
                ready = speculation.result is not None and not speculation.published
                speculation.published = speculation.published or ready
        if speculation is None:
            self.worker.put((event.segment, detected_at, None))
        elif ready:
            self.publish(speculation.segment, *speculation.result, detected_at)

    def recognise(self, segment, detected_at: Optional[float], speculation: Optional[Speculation]) -> None:
        if speculation is not None and speculation.discarded:
            return  # withdrawn before its turn came: no work for nothing
        started = time.perf_counter()
        transcript = self.recognizer.transcribe(segment.samples)
        self.last_asr_s = time.perf_counter() - started
        prosody = (
            extract_prosody(segment.samples, self.rate_hz, transcript.text)
            if transcript.text.strip()
            else None
        )
        if speculation is not None:
            with self.speculation_lock:
                speculation.result = (transcript, prosody)
                publish = speculation.committed_at is not None and not speculation.published
                speculation.published = speculation.published or publish
            if not publish:
                return  # published when the end is confirmed, or never
            detected_at = speculation.committed_at
        self.publish(segment, transcript, prosody, detected_at)

    def on_answer_playing(self, message: Bool) -> None:
        """When the robot's answer to the last utterance was over (continuations end there)."""
        if message.data:
            self.answer_started = True
        elif self.answer_started and self.answer_over_at_s is None:
            self.answer_over_at_s = self.segmenter.stream_time_s

    def continued(self, segment: SpeechSegment, text: str) -> Published:
        """This utterance, joined to the one before when it continues that turn."""
        previous, over_at = self.last_published, self.answer_over_at_s
        onset_s = segment.start_s + self.config.asr.speech_pad_ms / 1000.0
        continues = (
            previous is not None
            and onset_s - previous.end_s <= self.config.asr.continuation_window_ms / 1000.0
            and (over_at is None or over_at > onset_s)
        )
        if not continues:
            return Published(text, segment.start_s, segment.end_s)
        self.continuations += 1
        return Published(f"{previous.text} {text}", previous.start_s, segment.end_s)

    def publish(self, segment, transcript, prosody: Optional[ProsodyFeatures], detected_at: float) -> None:
        if not transcript.text.strip():
            self.rejected_segments += 1
            self.get_logger().debug(
                f"no speech recognised in a {segment.end_s - segment.start_s:.1f} s segment"
            )
            return
        heard = self.continued(segment, transcript.text.strip())
        self.last_published, self.answer_started, self.answer_over_at_s = heard, False, None
        message = Utterance()
        message.header.stamp = self.get_clock().now().to_msg()
        message.header.frame_id = "asr"
        message.text = heard.text
        message.final = True
        message.confidence = float(transcript.confidence)
        message.language = transcript.language or self.config.asr.language
        origin = self.stream_origin_s or 0.0
        message.start_time = _to_time(origin + heard.start_s)
        message.end_time = _to_time(origin + heard.end_s)
        message.processing_latency_s = float(time.perf_counter() - detected_at)
        message.energy_dbfs = float(prosody.energy_dbfs)
        message.pitch_hz = float(prosody.pitch_hz)
        message.pitch_variability_semitones = float(prosody.pitch_variability_semitones)
        message.speaking_rate_wps = float(prosody.speaking_rate_wps)
        self.speech_pub.publish(message)
        self.utterances += 1

    def echo_state(self) -> str:
        if self.echo is None:
            return "no echo cancellation"
        if not self.echo.echo_path_found:
            lag, clarity = self.echo.last_estimate
            return f"no echo found yet: last peak {lag} samples, clarity {clarity:.1f}"
        judged = ", ".join(f"{power:.0f}/{expected:.0f}" for power, expected in self.echo.recent_judgements)
        return (
            f"echo {self.echo.delay_ms:.0f} ms late, residual {self.echo.leak_db:.1f} dB; latest blocks "
            f"heard/expected of the robot alone (dB): {judged}"
        )

    def echo_diagnostics(self) -> dict:
        if self.echo is None:
            return {"echo_cancellation": False}
        return {
            "echo_cancellation": True,
            "echo_delay_ms": f"{self.echo.delay_ms:.0f}",
            "echo_residual_db": f"{self.echo.leak_db:.1f}",
            "near_end_blocks": self.echo.near_end_blocks,
            "microphone_gaps": self.microphone_gaps,
            "echo_filter_resets": self.echo.filter_resets,
            "echo_path_found": self.echo.echo_path_found,
            # Delays GCC-PHAT proposed that no linear echo explained: the person's voice, not the robot's.
            "echo_delays_rejected": self.echo.rejected_delays,
        }

    def diagnostics(self):
        return (
            "model loaded",
            {
                "load_time_s": f"{self.load_time_s:.2f}",
                "utterances": self.utterances,
                "segments_without_speech": self.rejected_segments,
                "last_asr_s": f"{self.last_asr_s:.3f}",
                # Recognitions started on a short silence, and those thrown away (the person went on).
                "speculative_starts": self.speculative_starts,
                "speculative_discards": self.speculative_discards,
                # Utterances published joined to the one before (a turn said in parts).
                "continuations": self.continuations,
                "barge_in": self.config.asr.barge_in,
                "barge_ins": self.barge_ins,
                **self.echo_diagnostics(),
            },
            DiagnosticStatus.OK,
        )


def main() -> None:
    run_model_node(AsrNode)


if __name__ == "__main__":
    main()
