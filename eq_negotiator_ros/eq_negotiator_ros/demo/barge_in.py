"""The robot in a simulated room, through the real ASR and TTS nodes: what `bench-barge-in` and
the barge-in integration test run.

`RoomNode` is the room and the person: it hears what the TTS node plays (audio/out, stamped with
when it is heard), mixes it into a microphone signal with speech/room.py (delay, attenuation,
reverberation, noise), adds the person's speech when one is scheduled, and publishes the result
on audio/in in real time, as a microphone would. It gives the TTS node replies to speak (reply,
with negotiation_state naming its session) and records barge_in, robot_speaking and speech.

`run_barge_in_trials` plays replies through that room: some with nobody talking (does the robot
interrupt itself on its own voice?), some with a person talking over the reply at a random moment
(how long from the person's first sound to the robot's last sound, and is what they said heard?).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from std_msgs.msg import Bool, Empty

from eq_negotiator_interfaces.msg import AudioChunk, NegotiationState, ReplyChunk, Utterance

from ..nodes import topics
from ..nodes.readiness import LifecycleStates
from ..speech.audio import chunk_samples
from ..speech.echo import ReferenceTimeline
from ..speech.room import RoomSettings, SimulatedRoom

SESSION_ID = "barge_in_trials"
# Replies of three sentences (6-9 s spoken): long enough to be talked over anywhere in them.
REPLIES = (
    (
        "I understand that this month has been hard for you.",
        "What we can offer is sixty days, with the first payment next month.",
        "That gives you time to get back on your feet.",
    ),
    (
        "Thank you for telling me about your situation.",
        "We could accept ninety days if two hundred dollars are paid now.",
        "Please let me know if that works for you.",
    ),
    (
        "I hear you, and I want to find something that works.",
        "Forty five days is as far as I can go today.",
        "After that the account goes to the next step.",
    ),
)
# What the person says over the robot (written apart from the replies).
INTERRUPTIONS = (
    "Wait, I cannot pay that much.",
    "Sorry, can I stop you there?",
    "No, that does not work for me.",
    "Hold on, what about next month?",
)
# The person starts this long after the robot's first sound (uniformly): anywhere in the reply.
INTERRUPT_AFTER_S = (0.6, 3.0)
SETTLE_S = 1.0  # after the robot's last sound: its echo has died down
HEARD_WAIT_S = 12.0  # the person's words recognised (Whisper on two shared cores)


def stamp_s(message) -> float:
    return message.header.stamp.sec + message.header.stamp.nanosec * 1e-9


def speech_onset(samples: np.ndarray, share: float = 0.05) -> int:
    """First sample above share of the peak: where the person's voice begins (Piper leads with silence)."""
    loud = np.flatnonzero(np.abs(samples) >= share * float(np.max(np.abs(samples)) or 1.0))
    return int(loud[0]) if loud.size else 0


@dataclass
class TrialResult:
    turn: int
    interrupted: bool  # a person spoke over this reply
    barge_ins: int  # barge_in messages while the reply played
    stop_s: Optional[float]  # the person's first sound -> the robot's last sound (interrupted only)
    heard: str  # what speech published after the person spoke (interrupted only)
    said: str  # what the person said
    barge_in_s: Optional[float] = None  # the first barge-in after the person's first sound (< 0: before)

    def to_dict(self) -> dict:
        return asdict(self)


class RoomNode(Node):
    def __init__(self, namespace: str, room: RoomSettings, chunk_ms: int, rate_hz: int = 16000, context=None):
        super().__init__("simulated_room", namespace=namespace, context=context)
        self.rate_hz, self.chunk_ms = rate_hz, chunk_ms
        self.room = SimulatedRoom(room)
        self.played = ReferenceTimeline(rate_hz)
        # Import and run the signal code once now: its first call takes a second or more.
        SimulatedRoom(room).echo(np.zeros(160, dtype=np.float32))
        ReferenceTimeline(rate_hz).add(0.0, np.zeros(2205, dtype=np.float32), 22050)
        self.lock = threading.Condition()
        self.person: list[tuple[int, np.ndarray]] = []  # (first sample index, audio) to say
        self.heard_spans: dict[int, tuple[float, float]] = {}  # turn -> (first heard, last sound end)
        self.barge_in_times: list[float] = []
        self.utterances: list[tuple[float, str]] = []
        self.speaking = False
        self.audio_pub = self.create_publisher(AudioChunk, topics.AUDIO_IN, topics.AUDIO_QOS)
        self.reply_pub = self.create_publisher(ReplyChunk, topics.REPLY, topics.REPLY_QOS)
        self.state_pub = self.create_publisher(NegotiationState, topics.NEGOTIATION_STATE, topics.LATCHED_QOS)
        self.create_subscription(AudioChunk, topics.AUDIO_OUT, self.on_played, topics.AUDIO_REFERENCE_QOS)
        self.create_subscription(Empty, topics.BARGE_IN, self.on_barge_in, topics.RELIABLE_QOS)
        self.create_subscription(Bool, topics.ROBOT_SPEAKING, self.on_speaking, topics.LATCHED_QOS)
        self.create_subscription(Utterance, topics.SPEECH, self.on_speech, topics.RELIABLE_QOS)
        self.asr_diagnostics: dict[str, str] = {}  # the ASR node's latest /diagnostics values
        self.create_subscription(DiagnosticArray, "/diagnostics", self.on_diagnostics, 10)
        self.stop = threading.Event()
        self.microphone = threading.Thread(target=self.run_microphone, name="room_microphone", daemon=True)

    # -- what the room hears -------------------------------------------------------------------

    def on_played(self, message: AudioChunk) -> None:
        heard = stamp_s(message)
        if message.end_of_segment and not len(message.samples):
            # The loudspeaker stopped there (a barge-in kills the player): what it was handed for
            # later is not heard.
            with self.lock:
                self.played.cut(heard)
                if message.turn in self.heard_spans:
                    first, last = self.heard_spans[message.turn]
                    self.heard_spans[message.turn] = (first, max(first, min(last, heard)))
                self.lock.notify_all()
            return
        if not len(message.samples):
            return
        samples = np.asarray(message.samples, dtype=np.float32)
        with self.lock:
            self.played.add(heard, samples, int(message.sample_rate_hz))
            first, _ = self.heard_spans.get(message.turn, (heard, heard))
            self.heard_spans[message.turn] = (first, heard + samples.size / message.sample_rate_hz)
            self.lock.notify_all()

    def on_barge_in(self, _message: Empty) -> None:
        with self.lock:
            self.barge_in_times.append(time.time())

    def on_speaking(self, message: Bool) -> None:
        with self.lock:
            self.speaking = bool(message.data)
            self.lock.notify_all()

    def on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            values = {value.key: value.value for value in status.values}
            if values.get("node") == f"{self.get_namespace()}/asr_node":  # not another graph's
                self.asr_diagnostics = values

    def on_speech(self, message: Utterance) -> None:
        with self.lock:
            self.utterances.append((time.time(), message.text))

    # -- the microphone ---------------------------------------------------------------------------

    def run_microphone(self) -> None:
        """Every chunk_ms, the room's sound over the chunk that just ended, stamped with its end.
        The chunks are counted in samples: a clock in float seconds (1.8e9 s since 1970) drifts
        by a sample a minute when 0.1 s is added to it, and the room's sound with it."""
        count = chunk_samples(self.chunk_ms, self.rate_hz)
        end_index = self.played.index_of(time.time()) + count
        while not self.stop.wait(max(0.0, end_index / self.rate_hz - time.time())):
            with self.lock:
                played = self.played.read(end_index - count, count)
                person = self.person_audio(end_index - count, count)
            message = AudioChunk(sample_rate_hz=self.rate_hz, channels=1)
            message.samples = self.room.microphone(played, person).tolist()
            message.header.stamp.sec, nanoseconds = divmod(
                end_index * 1_000_000_000 // self.rate_hz, 1_000_000_000
            )
            message.header.stamp.nanosec = nanoseconds
            message.header.frame_id = "simulated_room"
            self.audio_pub.publish(message)
            end_index += count

    def person_audio(self, first: int, count: int) -> np.ndarray:
        out = np.zeros(count, dtype=np.float32)
        for start, audio in self.person:
            lo, hi = max(first, start), min(first + count, start + audio.size)
            if hi > lo:
                out[lo - first : hi - first] += audio[lo - start : hi - start]
        self.person = [(start, audio) for start, audio in self.person if start + audio.size > first]
        return out

    def say(self, audio: np.ndarray, start_s: float) -> None:
        with self.lock:
            self.person.append((self.played.index_of(start_s), audio))

    # -- the robot's replies ----------------------------------------------------------------------

    def start(self) -> None:
        self.state_pub.publish(NegotiationState(session_id=SESSION_ID))
        self.microphone.start()

    def speak(self, turn: int, sentences: tuple[str, ...]) -> None:
        for index, text in enumerate(sentences):
            message = ReplyChunk(session_id=SESSION_ID, turn=turn, index=index, text=text, emotion="neutral")
            message.final = index == len(sentences) - 1
            message.header.stamp = self.get_clock().now().to_msg()
            self.reply_pub.publish(message)

    def wait_for(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.lock.wait(min(remaining, 0.1))
            return True

    def wait_for_graph(self, timeout_s: float, alive: Callable[[], None]) -> None:
        states = LifecycleStates(self, self.get_namespace(), ("asr_node", "tts_node"))
        try:
            states.wait_until_active(timeout_s, alive)
        finally:
            states.close(self)
        deadline = time.monotonic() + timeout_s
        while not (
            self.audio_pub.get_subscription_count()
            and self.reply_pub.get_subscription_count()
            # The ASR node hears audio/out too (its echo reference), not only this room.
            and self.count_subscribers(f"{self.get_namespace()}/{topics.AUDIO_OUT}") >= 2
            and self.count_publishers(f"{self.get_namespace()}/{topics.AUDIO_OUT}")
        ):
            alive()
            if time.monotonic() > deadline:
                raise TimeoutError("the ASR and TTS nodes did not match the room's topics (DDS discovery)")
            time.sleep(0.1)
        time.sleep(1.0)  # best-effort audio sent before both sides matched is lost


def play_reply(
    room: RoomNode, turn: int, sentences, person: Optional[np.ndarray], rng, said: str
) -> TrialResult:
    """One reply through the room, talked over by `person` (16 kHz) when given."""
    barge_ins_before, utterances_before = len(room.barge_in_times), len(room.utterances)
    room.speak(turn, sentences)
    if not room.wait_for(lambda: turn in room.heard_spans, 60.0):
        raise TimeoutError(f"the TTS node played nothing of reply {turn} within 60 s")
    onset_s = None
    if person is not None:
        start_s = room.heard_spans[turn][0] + rng.uniform(*INTERRUPT_AFTER_S)
        onset_s = start_s + speech_onset(person) / room.rate_hz
        room.say(person, start_s)
    # The reply is over when the robot is silent and nothing more of it came for a while.
    while True:
        room.wait_for(lambda: not room.speaking, 60.0)
        last_sound_s = room.heard_spans[turn][1]
        if time.time() > last_sound_s + SETTLE_S and not room.speaking:
            break
        time.sleep(0.1)
    if person is not None:
        person_end_s = onset_s + person.size / room.rate_hz
        time.sleep(max(0.0, person_end_s + SETTLE_S - time.time()))
        room.wait_for(lambda: len(room.utterances) > utterances_before, HEARD_WAIT_S)
    with room.lock:
        barge_ins = len(room.barge_in_times) - barge_ins_before
        first_barge_in = room.barge_in_times[barge_ins_before] if barge_ins else None
        heard = " ".join(text for _, text in room.utterances[utterances_before:])
        last_sound_s = room.heard_spans[turn][1]
    # Stopped by the person: a barge-in, and the robot's sound ended after their first sound (a
    # barge-in on the very first, quiet milliseconds of it can end the sound a little before).
    stopped = onset_s is not None and barge_ins > 0 and last_sound_s > onset_s - 0.1
    return TrialResult(
        turn=turn,
        interrupted=person is not None,
        barge_ins=barge_ins,
        stop_s=max(0.0, last_sound_s - onset_s) if stopped else None,
        heard=heard if person is not None else "",
        said=said,
        barge_in_s=None if first_barge_in is None or onset_s is None else first_barge_in - onset_s,
    )


def run_barge_in_trials(
    room: RoomNode,
    speak_person: Callable[[str], np.ndarray],
    replies: int,
    interruptions: int,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[TrialResult]:
    """`replies` replies nobody talks over, then `interruptions` replies a person talks over."""
    rng = random.Random(seed)
    results = []
    for number in range(replies + interruptions):
        turn = number + 1
        sentences = REPLIES[number % len(REPLIES)]
        talked_over = number >= replies
        said = INTERRUPTIONS[number % len(INTERRUPTIONS)] if talked_over else ""
        person = speak_person(said) if talked_over else None
        result = play_reply(room, turn, sentences, person, rng, said)
        results.append(result)
        if talked_over:
            stop = "did not stop" if result.stop_s is None else f"stopped {result.stop_s:.2f} s after"
            when = "" if result.barge_in_s is None else f" (barge-in at {result.barge_in_s:+.2f} s)"
            log(f"reply {turn}: person talked over it; the robot {stop}{when}; heard {result.heard!r}")
        else:
            log(f"reply {turn}: nobody talked; barge-ins {result.barge_ins}")
    return results


def summarise(results: list[TrialResult], stop_limit_s: float = 0.3) -> dict:
    quiet = [r for r in results if not r.interrupted]
    talked = [r for r in results if r.interrupted]
    stops = [r.stop_s for r in talked if r.stop_s is not None and r.barge_ins > 0]
    within = [s for s in stops if s <= stop_limit_s]
    heard = [r for r in talked if r.heard]
    return {
        "replies_nobody_talked_over": len(quiet),
        "self_interruptions": sum(1 for r in quiet if r.barge_ins > 0),
        "interruptions": len(talked),
        "stopped": len(stops),
        "stopped_within_s": stop_limit_s,
        "share_stopped_within": round(len(within) / len(talked), 3) if talked else float("nan"),
        "stop_s_p50": round(float(np.percentile(stops, 50)), 3) if stops else float("nan"),
        "stop_s_p90": round(float(np.percentile(stops, 90)), 3) if stops else float("nan"),
        "interruptions_heard": len(heard),
    }
