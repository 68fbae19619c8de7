"""asr_node: end-of-utterance detection (Silero VAD) and speech recognition (faster-whisper).

audio/in (AudioChunk, sensor-data QoS) -> speech (Utterance with timing and prosody).
While robot_speaking is true the input is ignored (the robot must not answer itself), unless
barge-in is on: then speech during a reply publishes barge_in and the reply stops.
Noise, silence and empty transcripts never become a turn.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Bool, Empty

from eq_negotiator_interfaces.msg import AudioChunk, Utterance

from ..speech.asr import SpeechRecognizer
from ..speech.audio import AudioFormatError, resample, to_float32_mono
from ..speech.prosody import extract_prosody
from ..speech.vad import UtteranceSegmenter, VadSettings
from . import topics, workers
from .lifecycle import ModelNode, run_model_node


def _to_time(seconds: float) -> Time:
    whole = int(seconds)
    return Time(sec=whole, nanosec=int((seconds - whole) * 1e9))


class AsrNode(ModelNode):
    def __init__(self, **node_options) -> None:
        super().__init__("asr_node", **node_options)
        self.rate_hz = self.config.audio.sample_rate_hz
        self.recognizer: Optional[SpeechRecognizer] = None
        self.load_time_s = 0.0
        self.utterances = 0
        self.rejected_segments = 0
        self.last_asr_s = 0.0

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

    def unload(self) -> None:
        self.recognizer = None

    def activate_interfaces(self) -> None:
        # A fresh stream: what was heard before a deactivation is not joined to what comes next.
        self.segmenter = UtteranceSegmenter(VadSettings.from_config(self.config.asr, self.rate_hz))
        self.robot_speaking = False
        self.barge_in_sent = False
        self.stream_origin_s: Optional[float] = None  # wall-clock time of the stream's first sample
        self.warned_rates: set[int] = set()
        self.speech_pub = self.create_publisher(Utterance, topics.SPEECH, topics.RELIABLE_QOS)
        self.barge_in_pub = self.create_publisher(Empty, topics.BARGE_IN, topics.RELIABLE_QOS)
        self.create_subscription(AudioChunk, topics.AUDIO_IN, self.on_audio, topics.AUDIO_QOS)
        self.create_subscription(Bool, topics.ROBOT_SPEAKING, self.on_robot_speaking, topics.LATCHED_QOS)
        self.worker = workers.JobWorker(
            "asr_recognition",
            lambda job: self.recognise(*job),
            lambda error: self.get_logger().error(f"recognition failed: {error}"),
        )

    def deactivate_interfaces(self) -> None:
        self.worker.close()

    def on_robot_speaking(self, message: Bool) -> None:
        self.robot_speaking = bool(message.data)
        if self.robot_speaking and not self.config.asr.barge_in:
            # What was heard up to now belongs to the debtor's last turn; what comes next is the
            # robot's own voice (echo), which must not become a turn.
            self.segmenter.reset()
        self.barge_in_sent = False

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
        if self.robot_speaking and not self.config.asr.barge_in:
            return
        segments = self.segmenter.push(samples)
        if (
            self.robot_speaking
            and self.config.asr.barge_in
            and self.segmenter.in_speech
            and not self.barge_in_sent
        ):
            self.barge_in_sent = True
            self.barge_in_pub.publish(Empty())
        detected_at = time.perf_counter()
        for segment in segments:
            self.worker.put((segment, detected_at))

    def recognise(self, segment, detected_at: float) -> None:
        started = time.perf_counter()
        transcript = self.recognizer.transcribe(segment.samples)
        self.last_asr_s = time.perf_counter() - started
        if not transcript.text.strip():
            self.rejected_segments += 1
            self.get_logger().debug(
                f"no speech recognised in a {segment.end_s - segment.start_s:.1f} s segment"
            )
            return
        prosody = extract_prosody(segment.samples, self.rate_hz, transcript.text)
        message = Utterance()
        message.header.stamp = self.get_clock().now().to_msg()
        message.header.frame_id = "asr"
        message.text = transcript.text.strip()
        message.final = True
        message.confidence = float(transcript.confidence)
        message.language = transcript.language or self.config.asr.language
        origin = self.stream_origin_s or 0.0
        message.start_time = _to_time(origin + segment.start_s)
        message.end_time = _to_time(origin + segment.end_s)
        message.processing_latency_s = float(time.perf_counter() - detected_at)
        message.energy_dbfs = float(prosody.energy_dbfs)
        message.pitch_hz = float(prosody.pitch_hz)
        message.pitch_variability_semitones = float(prosody.pitch_variability_semitones)
        message.speaking_rate_wps = float(prosody.speaking_rate_wps)
        self.speech_pub.publish(message)
        self.utterances += 1

    def diagnostics(self):
        return (
            "model loaded",
            {
                "load_time_s": f"{self.load_time_s:.2f}",
                "utterances": self.utterances,
                "segments_without_speech": self.rejected_segments,
                "last_asr_s": f"{self.last_asr_s:.3f}",
                "barge_in": self.config.asr.barge_in,
            },
            DiagnosticStatus.OK,
        )


def main() -> None:
    run_model_node(AsrNode)


if __name__ == "__main__":
    main()
