"""tts_node: speaks each reply sentence as it arrives (Piper).

reply (ReplyChunk) -> audio/out (AudioChunk), robot_speaking (Bool); plays on the speaker when the
machine has one (ALSA `aplay`), records each session's replies to WAV under the run directory.
A message on barge_in (the debtor started talking) stops the current reply, and so does a newer
directive of the session (the debtor said more and the answer is phrased again): only replies to
the session's newest directive are spoken. Only replies of the
session negotiation_state names are spoken, each sentence once; replies are latched, so a node
restarted in the middle of a reply speaks the sentences it had not finished (sessions.HandledRecord).
A lifecycle node: the voice loads on configure.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Bool, Empty

from eq_negotiator_interfaces.msg import AudioChunk, CreditorDirective, NegotiationState, ReplyChunk

from ..llm.personas import PERSONA_OPENERS
from ..speech.audio import float_to_int16, write_wav
from ..speech.tts import SpeechSynthesizer
from . import sessions, topics, workers
from .lifecycle import ModelNode, run_model_node


def playback_available() -> bool:
    return shutil.which("aplay") is not None and any(Path("/dev/snd").glob("pcmC*D*p"))


class Loudspeaker:
    """Plays replies in real time, one short chunk at a time, on its own thread: each chunk is
    handed to `aplay` (when the machine has a speaker) and published through `publish(samples,
    heard_at_s)` playback_lead_ms before it is heard, stamped with the time it is heard, so
    audio/out is both the echo reference and the truth of when the robot is audible, with or
    without a sound card. stop() silences it within one chunk: the queue is dropped and `aplay`
    (whose buffer holds no more than the lead) is killed. Sentences queued back to back play
    without a gap; `after` callbacks run once the audio queued before them has been heard."""

    def __init__(self, rate_hz: int, chunk_ms: int, lead_ms: int, publish, use_speaker: bool, clock) -> None:
        self.rate_hz = rate_hz
        self.chunk_samples = max(1, rate_hz * chunk_ms // 1000)
        self.lead_s = lead_ms / 1000.0
        self.publish, self.use_speaker, self.clock = publish, use_speaker, clock
        self.queue: "queue.Queue" = queue.Queue()
        self.generation = 0  # stop() starts a new one: what was queued before is dropped
        self.stopped = threading.Event()
        self.player: Optional[subprocess.Popen] = None
        self.next_heard_s = 0.0  # when the next sample will be heard, while playback runs on
        self.thread = threading.Thread(target=self.run, name="tts_playback", daemon=True)
        self.thread.start()

    def play(self, audio: np.ndarray, turn: int, after=None) -> None:
        self.queue.put((self.generation, audio, turn, after))

    def stop(self) -> float:
        """Silence it now; the time the sound stopped (what was handed out for later is never heard)."""
        self.generation += 1
        self.stopped.set()
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.close_player(kill=True)
        stopped_at = self.clock()
        self.next_heard_s = min(self.next_heard_s, stopped_at)
        return stopped_at

    def close(self) -> None:
        self.stop()
        self.queue.put(None)
        self.thread.join(timeout=2.0)

    def run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            generation, audio, turn, after = item
            if generation != self.generation:
                continue
            self.stopped.clear()
            if audio.size:
                self.play_now(audio, turn, generation)
            if after is not None and generation == self.generation:
                after()

    def play_now(self, audio: np.ndarray, turn: int, generation: int) -> None:
        now = self.clock()
        if self.next_heard_s < now + self.lead_s:  # not continuing what is playing: start afresh
            self.next_heard_s = now + self.lead_s
        for start in range(0, audio.size, self.chunk_samples):
            piece = audio[start : start + self.chunk_samples]
            if self.clock() > self.next_heard_s - self.lead_s / 2:
                # Late (a busy machine): a gap in the sound rather than audio/out stamped with a
                # time that has passed, which no listener could line up with the microphone.
                self.next_heard_s = self.clock() + self.lead_s
            wait_s = self.next_heard_s - self.lead_s - self.clock()
            if (wait_s > 0 and self.stopped.wait(wait_s)) or generation != self.generation:
                return
            self.write_to_speaker(piece)
            self.publish(piece, self.next_heard_s, turn)
            self.next_heard_s += piece.size / self.rate_hz

    def write_to_speaker(self, piece: np.ndarray) -> None:
        if not self.use_speaker:
            return
        if self.player is None or self.player.poll() is not None:
            # The device buffer is kept near the lead, so a kill silences it at once.
            buffer_us = int(max(self.lead_s * 2, 0.1) * 1e6)
            self.player = subprocess.Popen(
                ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(self.rate_hz)]
                + [f"--buffer-time={buffer_us}"],
                stdin=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        try:
            self.player.stdin.write(float_to_int16(piece).tobytes())
            self.player.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close_player(kill=True)

    def close_player(self, kill: bool) -> None:
        player, self.player = self.player, None
        if player is None or player.poll() is not None:
            return
        if kill:
            player.kill()
        else:
            try:
                player.stdin.close()  # aplay plays what it holds, then exits
            except OSError:
                pass


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
        self.stopped_replies = 0
        self.speaker: Optional[Loudspeaker] = None
        self.current_reply: Optional[tuple[str, int]] = None  # (session, turn) being spoken
        self.ending_reply: Optional[tuple[str, int]] = None  # (session, turn) whose end is queued
        self.newest_directive: tuple[str, int] = ("", -1)  # (session, turn) of the newest directive
        self.superseded_replies = 0
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
        # Every reply starts with a persona opener (llm/personas.py), said in that persona's voice:
        # made now, the first sound of a reply is played at once instead of after Piper has run.
        started = time.perf_counter()
        prepared = self.synthesizer.prepare(
            (opener, emotion)
            for emotion, groups in PERSONA_OPENERS.items()
            for openers in groups.values()
            for opener in openers
        )
        self.get_logger().info(
            f"{prepared} persona openers prepared in {time.perf_counter() - started:.1f} s"
        )

    def unload(self) -> None:
        self.synthesizer = None

    def activate_interfaces(self) -> None:
        # The last (session, (turn, sentence index)) spoken: a sentence that arrives twice, or again
        # from the latched history after a restart, is said once.
        self.handled = sessions.HandledRecord(self, self.config.run_dir)
        self.started_at_ns = self.get_clock().now().nanoseconds
        self.audio_pub = self.create_publisher(AudioChunk, topics.AUDIO_OUT, topics.AUDIO_OUT_QOS)
        self.speaking_pub = self.create_publisher(Bool, topics.ROBOT_SPEAKING, topics.LATCHED_QOS)
        self.create_subscription(ReplyChunk, topics.REPLY, self.on_reply, topics.REPLY_QOS)
        self.create_subscription(Empty, topics.BARGE_IN, self.on_barge_in, topics.RELIABLE_QOS)
        self.create_subscription(
            CreditorDirective, topics.DIRECTIVE, self.on_directive, topics.DIRECTIVE_SUBSCRIBER_QOS
        )
        self.create_subscription(
            NegotiationState,
            topics.NEGOTIATION_STATE,
            lambda message: self.current_session.update(message.session_id),
            topics.LATCHED_QOS,
        )
        self.set_speaking(False)
        tts = self.config.tts
        self.speaker = Loudspeaker(
            self.sample_rate_hz,
            tts.playback_chunk_ms,
            tts.playback_lead_ms,
            self.publish_played,
            self.play,
            lambda: self.get_clock().now().nanoseconds / 1e9,
        )
        self.worker = workers.JobWorker("tts_synthesis", self.speak, self.on_speak_error)

    def deactivate_interfaces(self) -> None:
        self.worker.close()
        self.speaker.close()
        self.speaking = False

    def set_speaking(self, speaking: bool) -> None:
        self.speaking = speaking
        self.speaking_pub.publish(Bool(data=speaking))

    def on_reply(self, message: ReplyChunk) -> None:
        self.worker.put(message)

    def on_barge_in(self, _message: Empty) -> None:
        if not self.speaking:
            return
        # The sound first, then the bookkeeping: the reply being played and every sentence of it
        # still to come (queued, being synthesised, or not yet phrased) are dropped.
        self.publish_end_of_reply(self.current_reply[1] if self.current_reply else 0, self.speaker.stop())
        self.get_logger().info("barge-in: the debtor is talking, the reply stops")
        self.cancelled_turn = self.current_reply
        for pending in self.worker.drain():
            self.cancelled_turn = (pending.session_id, pending.turn)
        self.stopped_replies += 1
        self.set_speaking(False)

    def on_directive(self, message: CreditorDirective) -> None:
        """A newer directive of the session: the reply being spoken answers words the debtor has
        since added to; it stops, and what is left of it is not spoken."""
        session, turn = message.session_id, int(message.turn)
        newest_session, newest_turn = self.newest_directive
        if session == newest_session and turn <= newest_turn:
            return
        self.newest_directive = (session, turn)
        playing = self.current_reply
        if self.speaking and playing is not None and playing[0] == session and playing[1] < turn:
            self.publish_end_of_reply(playing[1], self.speaker.stop())
            self.superseded_replies += 1
            self.get_logger().info(f"reply of turn {playing[1]} stops: turn {turn} answers the debtor anew")
            self.set_speaking(False)

    def superseded(self, message: ReplyChunk) -> bool:
        """A barge-in stopped this reply, or a newer directive of its session came."""
        session, turn = self.newest_directive
        return self.cancelled_turn == (message.session_id, message.turn) or (
            message.session_id == session and int(message.turn) < turn
        )

    def on_speak_error(self, error: str) -> None:
        self.get_logger().error(f"speaking failed: {error}")
        self.set_speaking(False)

    def speak(self, message: ReplyChunk) -> None:
        if self.superseded(message):
            position = (int(message.turn), int(message.index))
            if not self.handled.handled(message.session_id, position):  # the record only moves on
                self.handled.record(message.session_id, position)
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
            if message.final and self.speaking and self.ending_reply != (message.session_id, message.turn):
                # A language model restarted mid-reply phrases the reply again, and may end it at a
                # sentence already spoken: the reply still ends here, or the robot never stops
                # speaking. (Once: a final sentence that arrives twice does not end the reply twice.)
                self.finish_reply(message)
            return
        if sent_ns < self.started_at_ns:
            self.get_logger().warning(
                f"speaking sentence {message.index} of turn {message.turn} of session {message.session_id}: "
                f"it was sent before this node started and had not been spoken"
            )
        if self.current_reply != (message.session_id, message.turn):
            self.current_reply = (message.session_id, message.turn)
        if not self.speaking:
            self.set_speaking(True)
        audio = self.synthesize_and_play(message)
        self.sentences += 1
        if self.config.tts.record:
            self.recordings.setdefault(message.session_id, []).append(audio)
        self.handled.record(message.session_id, position)
        if message.final:
            # robot_speaking goes false when the reply has been heard, not when it was synthesised.
            self.finish_reply(message)

    def synthesize_and_play(self, message: ReplyChunk) -> np.ndarray:
        """Speak the sentence in the voice of the emotion it was phrased in (tts.persona_voice),
        queueing each part for the loudspeaker as it is made; the whole sentence's audio."""
        audio_parts = []
        for samples in self.synthesizer.stream(message.text, emotion=message.emotion):
            if self.superseded(message):
                break  # a barge-in or a newer directive while this sentence was being synthesised
            self.speaker.play(samples, message.turn)
            audio_parts.append(samples)
        return np.concatenate(audio_parts) if audio_parts else np.zeros(0, dtype=np.float32)

    def publish_played(self, samples: np.ndarray, heard_at_s: float, turn: int) -> None:
        """One chunk on audio/out, stamped with the time it is heard (the echo reference's clock)."""
        chunk = AudioChunk()
        whole = int(heard_at_s)
        chunk.header.stamp.sec, chunk.header.stamp.nanosec = whole, int((heard_at_s - whole) * 1e9)
        chunk.header.frame_id = "tts"
        chunk.samples = samples.astype(np.float32).tolist()
        chunk.sample_rate_hz, chunk.channels, chunk.turn = self.sample_rate_hz, 1, turn
        self.audio_pub.publish(chunk)

    def publish_end_of_reply(self, turn: int, heard_until_s: float) -> None:
        """audio/out's end marker: nothing of this reply is heard after its stamp (the end of its
        last sample, or the moment a barge-in stopped it)."""
        end = AudioChunk(sample_rate_hz=self.sample_rate_hz, channels=1, turn=turn, end_of_segment=True)
        whole = int(heard_until_s)
        end.header.stamp.sec, end.header.stamp.nanosec = whole, int((heard_until_s - whole) * 1e9)
        end.header.frame_id = "tts"
        self.audio_pub.publish(end)

    def finish_reply(self, message: ReplyChunk) -> None:
        """End the reply once what is queued before this point has been heard."""
        self.ending_reply = (message.session_id, message.turn)
        self.speaker.play(np.zeros(0, dtype=np.float32), message.turn, after=lambda: self.end_reply(message))

    def end_reply(self, message: ReplyChunk) -> None:
        """The reply has been heard to its end (or ends without a sentence to speak)."""
        self.publish_end_of_reply(message.turn, max(self.speaker.next_heard_s, self.speaker.clock()))
        self.speaker.close_player(kill=False)
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
                "replies_stopped_by_barge_in": self.stopped_replies,
                "replies_superseded": self.superseded_replies,
                "session": self.current_session.session_id or "",
                "dropped_sentences": self.dropped_sentences,
            },
            DiagnosticStatus.OK,
        )


def main() -> None:
    run_model_node(TtsNode)


if __name__ == "__main__":
    main()
