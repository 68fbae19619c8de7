"""tts_node: speaks each reply sentence as it arrives (Piper).

reply (ReplyChunk) -> audio/out (AudioChunk), robot_speaking (Bool); plays on the speaker when the
machine has one (ALSA `aplay`), records each session's replies to WAV under the run directory.
A message on barge_in (the debtor started talking) stops the current reply. Only replies of the
session negotiation_state names are spoken, each sentence once; replies are latched, so a node
restarted in the middle of a reply speaks the sentences it had not finished (sessions.HandledRecord).
A lifecycle node: the voice loads on configure.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Bool, Empty

from eq_negotiator_interfaces.msg import AudioChunk, NegotiationState, ReplyChunk

from ..speech.audio import float_to_int16, iter_chunks, write_wav
from ..speech.tts import SpeechSynthesizer
from . import sessions, topics, workers
from .lifecycle import ModelNode, run_model_node


def playback_available() -> bool:
    return shutil.which("aplay") is not None and any(Path("/dev/snd").glob("pcmC*D*p"))


class TtsNode(ModelNode):
    def __init__(self, **node_options) -> None:
        super().__init__("tts_node", **node_options)
        self.synthesizer: Optional[SpeechSynthesizer] = None
        self.load_time_s = 0.0
        self.sample_rate_hz = 0
        self.play = False
        self.recordings: dict[str, list[np.ndarray]] = {}
        self.cancelled_turn: Optional[tuple[str, int]] = None
        self.speaking = False
        self.sentences = 0
        self.player: Optional[subprocess.Popen] = None
        self.current_session = sessions.CurrentSession()
        self.dropped_sentences = 0

    def load(self) -> None:
        started = time.perf_counter()
        self.synthesizer = SpeechSynthesizer(self.config.tts)
        self.load_time_s = time.perf_counter() - started
        self.sample_rate_hz = self.synthesizer.sample_rate_hz
        self.play = self.config.tts.play_audio and playback_available()
        self.get_logger().info(
            f"voice loaded in {self.load_time_s:.1f} s ({self.sample_rate_hz} Hz); "
            + ("playing on the speaker" if self.play else "no speaker: audio is published and recorded only")
        )

    def warm_up(self) -> None:
        # Piper (onnxruntime) and espeak's phonemiser, run once on one short sentence.
        if not self.synthesizer.synthesize("Hello.").size:
            raise RuntimeError(f"the voice made no audio for a short sentence: {self.synthesizer.last_error}")

    def unload(self) -> None:
        self.synthesizer = None

    def activate_interfaces(self) -> None:
        # The last (session, (turn, sentence index)) spoken: a sentence that arrives twice, or again
        # from the latched history after a restart, is said once.
        self.handled = sessions.HandledRecord(self, self.config.run_dir)
        self.started_at_ns = self.get_clock().now().nanoseconds
        self.audio_pub = self.create_publisher(AudioChunk, topics.AUDIO_OUT, topics.AUDIO_QOS)
        self.speaking_pub = self.create_publisher(Bool, topics.ROBOT_SPEAKING, topics.LATCHED_QOS)
        self.create_subscription(ReplyChunk, topics.REPLY, self.on_reply, topics.REPLY_QOS)
        self.create_subscription(Empty, topics.BARGE_IN, self.on_barge_in, topics.RELIABLE_QOS)
        self.create_subscription(
            NegotiationState,
            topics.NEGOTIATION_STATE,
            lambda message: self.current_session.update(message.session_id),
            topics.LATCHED_QOS,
        )
        self.set_speaking(False)
        self.worker = workers.JobWorker("tts_synthesis", self.speak, self.on_speak_error)

    def deactivate_interfaces(self) -> None:
        self.worker.close()
        if self.player is not None and self.player.poll() is None:
            self.player.kill()
        self.speaking = False

    def set_speaking(self, speaking: bool) -> None:
        self.speaking = speaking
        self.speaking_pub.publish(Bool(data=speaking))

    def on_reply(self, message: ReplyChunk) -> None:
        self.worker.put(message)

    def on_barge_in(self, _message: Empty) -> None:
        if not self.speaking:
            return
        self.get_logger().info("barge-in: the debtor is talking, the reply stops")
        for pending in self.worker.drain():
            self.cancelled_turn = (pending.session_id, pending.turn)
        if self.player is not None and self.player.poll() is None:
            self.player.kill()
        self.set_speaking(False)

    def on_speak_error(self, error: str) -> None:
        self.get_logger().error(f"speaking failed: {error}")
        self.set_speaking(False)

    def speak(self, message: ReplyChunk) -> None:
        if self.cancelled_turn == (message.session_id, message.turn):
            return
        if not self.current_session.admits(message.session_id, sessions.SESSION_WAIT_S):
            self.dropped_sentences += 1
            self.get_logger().warning(
                f"reply of session {message.session_id!r} (turn {message.turn}) not spoken: the current "
                f"session is {self.current_session.session_id!r}"
            )
            return
        position = (int(message.turn), int(message.index))
        sent_ns = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
        if self.handled.handled(message.session_id, position):
            if sent_ns >= self.started_at_ns:  # not the latched history a restarted node receives
                self.dropped_sentences += 1
                self.get_logger().warning(
                    f"sentence {message.index} of turn {message.turn} arrived twice; said once"
                )
            if message.final and self.speaking:
                # A language model restarted mid-reply phrases the reply again, and may end it at a
                # sentence already spoken: the reply still ends here, or the robot never stops speaking.
                self.end_reply(message)
            return
        if sent_ns < self.started_at_ns:
            self.get_logger().warning(
                f"speaking sentence {message.index} of turn {message.turn} of session {message.session_id}: "
                f"it was sent before this node started and had not been spoken"
            )
        if not self.speaking:
            self.set_speaking(True)
        audio = self.synthesize_and_publish(message)
        if message.final:
            self.publish_end_of_reply(message.turn)
        self.sentences += 1
        if self.config.tts.record:
            self.recordings.setdefault(message.session_id, []).append(audio)
        if self.play and audio.size:
            self.play_on_speaker(audio)
        self.handled.record(message.session_id, position)
        if message.final:
            self.set_speaking(False)
            if self.config.tts.record:
                self.save_recording(message.session_id)

    def synthesize_and_publish(self, message: ReplyChunk) -> np.ndarray:
        """Speak the sentence in the voice of the emotion it was phrased in (tts.persona_voice),
        publishing each chunk as it is made; the whole sentence's audio."""
        audio_parts = []
        for samples in self.synthesizer.stream(message.text, emotion=message.emotion):
            for piece in iter_chunks(samples, self.sample_rate_hz, self.config.audio.chunk_ms * 5):
                chunk = AudioChunk()
                chunk.header.stamp = self.get_clock().now().to_msg()
                chunk.header.frame_id = "tts"
                chunk.samples = piece.astype(np.float32).tolist()
                chunk.sample_rate_hz, chunk.channels, chunk.turn = self.sample_rate_hz, 1, message.turn
                self.audio_pub.publish(chunk)
            audio_parts.append(samples)
        return np.concatenate(audio_parts) if audio_parts else np.zeros(0, dtype=np.float32)

    def play_on_speaker(self, audio: np.ndarray) -> None:
        self.player = subprocess.Popen(
            ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(self.sample_rate_hz)],
            stdin=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            self.player.communicate(float_to_int16(audio).tobytes())
        except (BrokenPipeError, OSError):
            pass

    def publish_end_of_reply(self, turn: int) -> None:
        end = AudioChunk(sample_rate_hz=self.sample_rate_hz, channels=1, turn=turn, end_of_segment=True)
        end.header.stamp = self.get_clock().now().to_msg()
        end.header.frame_id = "tts"
        self.audio_pub.publish(end)

    def end_reply(self, message: ReplyChunk) -> None:
        """The reply ends without a sentence to speak."""
        self.publish_end_of_reply(message.turn)
        self.set_speaking(False)
        if self.config.tts.record:
            self.save_recording(message.session_id)

    def save_recording(self, session_id: str) -> None:
        parts = self.recordings.get(session_id) or []
        if not parts:
            return
        target = self.config.run_dir / "recordings" / f"{session_id}_creditor.wav"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_wav(target, np.concatenate(parts), self.sample_rate_hz)
        except OSError as error:
            self.get_logger().warning(f"cannot write {target}: {error}; set run_dir to a writable directory")

    def diagnostics(self):
        return (
            "voice loaded",
            {
                "sample_rate_hz": self.sample_rate_hz,
                "load_time_s": f"{self.load_time_s:.2f}",
                "playing_on_speaker": self.play,
                "sentences_spoken": self.sentences,
                "session": self.current_session.session_id or "",
                "dropped_sentences": self.dropped_sentences,
            },
            DiagnosticStatus.OK,
        )


def main() -> None:
    run_model_node(TtsNode)


if __name__ == "__main__":
    main()
