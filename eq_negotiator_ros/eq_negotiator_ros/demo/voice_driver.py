"""A simulated debtor who speaks, and an observer of the whole graph: the in-process side of
`eq-negotiator demo` and `bench-latency` (and of the end-to-end tests).

It is the debtor's microphone: audio/in carries audio in real time all the time, silence between
the debtor's utterances as a room would, so every turn crosses TTS -> ASR -> EQ -> SLM -> TTS
through real ROS 2 topics, and an utterance's end is always followed by the silence that ends it.
It records what each node published and when, to time each stage from the end of the debtor's
voiced speech (the last chunk holding speech, not Piper's trailing silence). It keeps only what
belongs to its own session (the one its start_session call opened): messages of any other session
are counted and set aside, a reply sentence that arrives twice is kept once.

One spoken turn may reach the reasoning node as several utterances (a pause longer than
asr.min_silence_ms inside it), each answered as a turn of the negotiation: the driver keeps its own
turn numbers and files each reasoning turn under the driver turn during which it began, so a turn
is over only when every utterance heard in it has been answered and spoken.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.subscription import Subscription
from std_msgs.msg import Bool

from eq_negotiator_interfaces.msg import (
    AudioChunk,
    CreditorDirective,
    EmotionState,
    NegotiationState,
    ReplyChunk,
    Utterance,
)
from eq_negotiator_interfaces.srv import StartSession

from ..nodes import topics
from ..nodes.readiness import LifecycleStates
from ..speech.audio import iter_chunks, silence

RESTART_SETTLE_S = 1.0
# A frame is voiced when its RMS is within this many dB of the loudest frame of the utterance.
VOICED_RANGE_DB = 40.0
VOICED_FRAME_S = 0.01


def _heard_at(message: AudioChunk) -> float:
    """perf_counter time at which a reply chunk is heard: the TTS stamps each chunk with that moment
    (and sends it a little ahead); a chunk without a stamp is heard when it arrives."""
    now = time.perf_counter()
    stamp_ns = _stamp_ns(message.header.stamp)
    if stamp_ns <= 0:
        return now
    return now + (stamp_ns / 1e9 - time.time())


def _stamp_ns(stamp) -> int:
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def voiced_span(samples: np.ndarray, rate_hz: int) -> tuple[int, int]:
    """[first, last) voiced sample indices (by frame energy, to a 10 ms frame): the speech without
    the silence a synthesiser or a room adds around it; (0, 0) for silence."""
    frame = max(1, int(rate_hz * VOICED_FRAME_S))
    count = -(-samples.size // frame)
    if count == 0:
        return 0, 0
    padded = np.zeros(count * frame, dtype=np.float64)
    padded[: samples.size] = samples
    energy = np.sqrt(np.mean(padded.reshape(count, frame) ** 2, axis=1))
    peak = float(energy.max())
    if peak <= 0.0:
        return 0, 0
    voiced = np.flatnonzero(energy >= peak * 10.0 ** (-VOICED_RANGE_DB / 20.0))
    return int(voiced[0]) * frame, min(samples.size, int(voiced[-1] + 1) * frame)


def last_voiced_sample(samples: np.ndarray, rate_hz: int) -> int:
    """Index just past the last voiced sample: where the speech ends; 0 for silence."""
    return voiced_span(samples, rate_hz)[1]


def _matched_publishers(node: Node, subscription: Subscription) -> int:
    """Publishers matched with this subscription (Iron and later); Humble's rclpy has only the
    graph's count of publishers on the topic."""
    if hasattr(subscription, "get_publisher_count"):
        return subscription.get_publisher_count()
    return node.count_publishers(subscription.topic_name)


@dataclass
class TurnObservation:
    """What the graph did for one debtor turn (or the opening, turn 0), with perf_counter times.
    `asr` holds the whole text heard in the turn; the timings follow its last utterance and the
    answer to it (the latest directive)."""

    turn: int
    debtor_text: str = ""
    speech_end_t: float = 0.0  # when the chunk holding the last voiced sample went out
    asr: Optional[Utterance] = None
    asr_t: float = 0.0
    heard: list[Utterance] = field(default_factory=list)
    last_asr_t: float = 0.0
    emotion: Optional[EmotionState] = None
    emotion_t: float = 0.0
    directive: Optional[CreditorDirective] = None
    directive_t: float = 0.0
    answered_turns: set[int] = field(default_factory=set)  # reasoning turns answered in this turn
    spoken_turns: set[int] = field(default_factory=set)  # ... whose reply audio has ended
    replies: list[ReplyChunk] = field(default_factory=list)
    first_reply_by_turn: dict[int, float] = field(default_factory=dict)
    reply_done_t: float = 0.0
    first_audio_by_turn: dict[int, float] = field(default_factory=dict)  # after the end of speech
    audio_done_t: float = 0.0
    replies_during_speech: int = 0  # reply audio chunks that came while the debtor still spoke
    audio_during_speech_turns: set[int] = field(default_factory=set)  # ... and their reasoning turns
    creditor_audio: list[np.ndarray] = field(default_factory=list)
    creditor_rate_hz: int = 0

    @property
    def first_reply_t(self) -> float:
        return self.first_reply_by_turn.get(int(self.directive.turn), 0.0) if self.directive else 0.0

    @property
    def first_audio_t(self) -> float:
        """First audio of the answer to the whole turn (the latest directive) after the speech."""
        return self.first_audio_by_turn.get(int(self.directive.turn), 0.0) if self.directive else 0.0

    @property
    def replies_spoken(self) -> bool:
        """The latest answer given in this turn has been spoken to its end (an earlier one was
        spoken before it, or dropped when the latest replaced it)."""
        return self.directive is not None and int(self.directive.turn) in self.spoken_turns

    @property
    def unanswered_utterances(self) -> int:
        return max(0, len(self.heard) - len(self.answered_turns))

    @property
    def reply_text(self) -> str:
        return " ".join(r.text for r in sorted(self.replies, key=lambda r: (r.turn, r.index)))

    @property
    def reply_from_fallback(self) -> bool:
        return any(r.from_fallback for r in self.replies)

    @property
    def answered_after_speech(self) -> bool:
        """The latest answer came after the debtor's last utterance, and none of its audio while
        they spoke: only then do the stage times describe one wait of the debtor's."""
        if self.directive is None or not self.heard or self.directive_t < self.last_asr_t:
            return False
        return int(self.directive.turn) not in self.audio_during_speech_turns

    def stage_times_s(self) -> dict[str, float]:
        """Per-stage delays; 'time_to_first_audio_s' is the delay a person feels. Without the
        answer stages when the turn was answered before the debtor had finished (the agent spoke
        over them, or the negotiation was over before their last words)."""
        times: dict[str, float] = {}
        last = self.heard[-1] if self.heard else None
        if last is not None and self.speech_end_t:
            total_asr = self.last_asr_t - self.speech_end_t
            times["asr_s"] = float(last.processing_latency_s)
            times["vad_end_of_speech_s"] = max(0.0, total_asr - float(last.processing_latency_s))
        if self.turn != 0 and not self.answered_after_speech:
            return {k: round(v, 4) for k, v in times.items()}
        if self.emotion is not None and last is not None:
            times["eq_reasoning_s"] = (
                self.directive_t - self.last_asr_t if self.directive_t else self.emotion_t - self.last_asr_t
            )
        if self.first_reply_t and self.directive_t:
            times["slm_first_sentence_s"] = self.first_reply_t - self.directive_t
        if self.first_audio_t and self.first_reply_t:
            times["tts_first_chunk_s"] = self.first_audio_t - self.first_reply_t
        if self.first_audio_t and self.speech_end_t:
            times["time_to_first_audio_s"] = self.first_audio_t - self.speech_end_t
        return {k: round(v, 4) for k, v in times.items()}


class VoiceDriver(Node):
    def __init__(self, namespace: str, chunk_ms: int = 100, sample_rate_hz: int = 16000, context=None):
        super().__init__("voice_driver", namespace=namespace, context=context)
        self.chunk_ms, self.rate_hz = chunk_ms, sample_rate_hz
        self.lock = threading.Condition()
        # (session id, turn) -> observation; the session id is "" until start_session answers.
        self.turns: dict[tuple[str, int], TurnObservation] = {}
        self.current_turn = 0
        self.session_id: Optional[str] = None
        self.states: dict[str, NegotiationState] = {}
        self.foreign_messages = 0
        self.repeated_sentences = 0
        self.robot_speaking = False
        # (session id, reasoning turn) -> the driver turn during which that reasoning turn began
        self.turn_of: dict[tuple[str, int], int] = {}
        # The microphone: chunks waiting to go out, each with what to do once it is out.
        self.mic_queue: collections.deque = collections.deque()
        self.mic_lock = threading.Lock()
        self.mic_stop = threading.Event()
        self.microphone: Optional[threading.Thread] = None
        # fully qualified node name -> (pid, monotonic time, lifecycle state) of its latest diagnostics
        self.heartbeats: dict[str, tuple[int, float, str]] = {}
        self.node_values: dict[str, dict[str, str]] = {}  # ... and all the values it reported
        self.audio_pub = self.create_publisher(AudioChunk, topics.AUDIO_IN, topics.AUDIO_QOS)
        self.start_client = self.create_client(StartSession, topics.START_SESSION)
        # What the driver observes; wait_for_graph waits until each has matched its publisher.
        self.observed = [
            self.create_subscription(Utterance, topics.SPEECH, self.on_speech, topics.RELIABLE_QOS),
            self.create_subscription(
                EmotionState, topics.DEBTOR_EMOTION, self.on_emotion, topics.RELIABLE_QOS
            ),
            self.create_subscription(
                CreditorDirective, topics.DIRECTIVE, self.on_directive, topics.RELIABLE_QOS
            ),
            self.create_subscription(ReplyChunk, topics.REPLY, self.on_reply, topics.RELIABLE_QOS),
            self.create_subscription(AudioChunk, topics.AUDIO_OUT, self.on_audio_out, topics.AUDIO_QOS),
            self.create_subscription(
                NegotiationState, topics.NEGOTIATION_STATE, self.on_state, topics.LATCHED_QOS
            ),
        ]
        self.create_subscription(Bool, topics.ROBOT_SPEAKING, self.on_speaking, topics.LATCHED_QOS)
        self.create_subscription(DiagnosticArray, "/diagnostics", self.on_diagnostics, 50)
        self.executor_ = SingleThreadedExecutor(context=self.context)
        self.executor_.add_node(self)
        self.spinner = threading.Thread(target=self._spin, name="voice_driver_spin", daemon=True)
        self.spinner.start()

    def _spin(self) -> None:
        try:
            self.executor_.spin()
        except Exception:  # the context was shut down while spinning
            pass

    # -- observation ------------------------------------------------------------------------

    @property
    def state(self) -> Optional[NegotiationState]:
        """The latest negotiation_state of this driver's session."""
        return self.states.get(self.session_id) if self.session_id else None

    def observation(self, turn: int, session_id: Optional[str] = None) -> TurnObservation:
        key = (self.session_id or "" if session_id is None else session_id, turn)
        return self.turns.setdefault(key, TurnObservation(turn=turn))

    def answer_observation(self, reasoning_turn: int, session_id: Optional[str] = None) -> TurnObservation:
        """The observation of the driver turn during which the reasoning node's turn began."""
        session = self.session_id or "" if session_id is None else session_id
        turn = self.turn_of.setdefault((session, reasoning_turn), self.current_turn)
        return self.observation(turn, session)

    def _session_key(self, session_id: str) -> Optional[str]:
        """Where a message of session_id is kept: its own session, or None when it belongs to
        another session than this driver's (counted, then ignored)."""
        if self.session_id is None or session_id == self.session_id:
            return session_id
        if session_id:
            self.foreign_messages += 1
        return None

    def _notify(self) -> None:
        with self.lock:
            self.lock.notify_all()

    def on_speech(self, message: Utterance) -> None:
        observation = self.observation(self.current_turn)
        now = time.perf_counter()
        heard = observation.heard
        if heard and _stamp_ns(message.start_time) <= _stamp_ns(heard[-1].end_time):
            heard[-1] = message  # a continuation: the part before joined to this one
        else:
            heard.append(message)
        observation.last_asr_t = now
        if observation.asr is None:
            observation.asr, observation.asr_t = Utterance(), now
            observation.asr.processing_latency_s = message.processing_latency_s
        # The ASR may have cut one spoken turn in parts: the whole text.
        observation.asr.text = " ".join(utterance.text for utterance in heard)
        self._notify()

    def on_emotion(self, message: EmotionState) -> None:
        session = self._session_key(message.session_id)
        if session is None:
            return
        observation = self.answer_observation(int(message.turn), session)
        observation.emotion, observation.emotion_t = message, time.perf_counter()
        self._notify()

    def on_directive(self, message: CreditorDirective) -> None:
        session = self._session_key(message.session_id)
        if session is None:
            return
        observation = self.answer_observation(int(message.turn), session)
        if observation.directive is None or int(message.turn) >= int(observation.directive.turn):
            observation.directive, observation.directive_t = message, time.perf_counter()
        observation.answered_turns.add(int(message.turn))
        self._notify()

    def on_reply(self, message: ReplyChunk) -> None:
        session = self._session_key(message.session_id)
        if session is None:
            return
        observation = self.answer_observation(int(message.turn), session)
        if any((r.turn, r.index) == (message.turn, message.index) for r in observation.replies):
            self.repeated_sentences += 1
            return
        now = time.perf_counter()
        observation.first_reply_by_turn.setdefault(int(message.turn), now)
        observation.replies.append(message)
        if message.final:
            observation.reply_done_t = now
        self._notify()

    def on_audio_out(self, message: AudioChunk) -> None:
        observation = self.answer_observation(int(message.turn))
        if len(message.samples):
            heard_t = _heard_at(message)
            # The delay a person feels runs from the end of their voiced speech to when the reply is
            # heard: a reply heard while they still speak (to the first part of their turn) is
            # counted apart.
            if observation.turn == 0 or (observation.speech_end_t and heard_t >= observation.speech_end_t):
                observation.first_audio_by_turn.setdefault(int(message.turn), heard_t)
            else:
                observation.replies_during_speech += 1
                observation.audio_during_speech_turns.add(int(message.turn))
            observation.creditor_audio.append(np.asarray(message.samples, dtype=np.float32))
            observation.creditor_rate_hz = int(message.sample_rate_hz)
        if message.end_of_segment:
            observation.audio_done_t = time.perf_counter()
            observation.spoken_turns.add(int(message.turn))
        self._notify()

    def on_state(self, message: NegotiationState) -> None:
        session = self._session_key(message.session_id)
        if session is not None:
            self.states[session] = message
        self._notify()

    def on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            values = {v.key: v.value for v in status.values}
            if "node" in values and values.get("pid", "").isdigit():
                # A node that is not a lifecycle node (the audio source) is active once it reports.
                self.heartbeats[values["node"]] = (
                    int(values["pid"]),
                    time.monotonic(),
                    values.get("lifecycle_state", "active"),
                )
                self.node_values[values["node"]] = values
        self._notify()

    def latest_values(self, name: str) -> dict[str, str]:
        """The latest /diagnostics values of this graph's node `name` ({} before it reported)."""
        return self.node_values.get(f"{self.get_namespace().rstrip('/')}/{name}", {})

    def on_speaking(self, message: Bool) -> None:
        self.robot_speaking = bool(message.data)
        self._notify()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.lock.wait(timeout=min(remaining, 0.2))
        return True

    # -- actions ----------------------------------------------------------------------------

    def wait_for_graph(self, timeout_s: float, alive: Callable[[], None] = lambda: None) -> None:
        """Until every model node is active (lifecycle GetState) and this driver's own topics are
        matched with the nodes' (audio published before the ASR matched it would be lost)."""
        deadline = time.monotonic() + timeout_s
        states = LifecycleStates(self, self.get_namespace())
        try:
            states.wait_until_active(timeout_s, alive)
        except TimeoutError as error:
            raise TimeoutError(f"the node graph was not ready: {error} (models still loading?)") from None
        finally:
            states.close(self)
        while not self.endpoints_matched():
            alive()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the nodes are active but their topics did not match this driver's "
                    f"within {timeout_s:.0f} s (DDS discovery)"
                )
            time.sleep(0.05)

    def endpoints_matched(self) -> bool:
        if self.audio_pub.get_subscription_count() == 0:
            return False
        return all(_matched_publishers(self, subscription) > 0 for subscription in self.observed)

    def wait_for_node(
        self, name: str, pid: int, timeout_s: float, alive: Callable[[], None] = lambda: None
    ) -> None:
        """Until the node process `pid` (a restarted node) reports `active` on /diagnostics. The
        endpoints of the process it replaced may linger in discovery, so they cannot tell."""
        node = f"{self.get_namespace().rstrip('/')}/{name}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            alive()
            if self.wait_for(lambda: self.heartbeats.get(node, (0, 0.0, ""))[::2] == (pid, "active"), 0.5):
                # A killed process's endpoints stay matched until its DDS lease runs out, so the
                # matched counts cannot tell when the new process's endpoints have matched.
                time.sleep(RESTART_SETTLE_S)
                return
        raise TimeoutError(f"{name} (pid {pid}) did not report active within {timeout_s:.0f} s")

    def start_session(self, scenario_id: str, timeout_s: float = 30.0) -> StartSession.Response:
        self.current_turn = 0
        self.session_id = None
        future = self.start_client.call_async(StartSession.Request(scenario_id=scenario_id))
        deadline = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not future.done():
            raise TimeoutError("start_session did not answer")
        response = future.result()
        if response.success:
            self.session_id = response.session_id
        return response

    def speak(self, turn: int, text: str, samples_16k: np.ndarray) -> TurnObservation:
        """Say one debtor utterance into the microphone (real time); returns once its last chunk is
        out, with speech_end_t stamped when the chunk holding its last voiced sample went out."""
        self.current_turn = turn
        observation = self.observation(turn)
        observation.debtor_text = text
        chunk = int(self.rate_hz * self.chunk_ms / 1000)
        pieces = list(iter_chunks(samples_16k, self.rate_hz, self.chunk_ms, pad_last=True))
        voiced_chunk = max(0, (last_voiced_sample(samples_16k, self.rate_hz) - 1) // chunk)
        done = threading.Event()

        def voiced_end_out() -> None:
            observation.speech_end_t = time.perf_counter()

        with self.mic_lock:
            for index, piece in enumerate(pieces):
                then = voiced_end_out if index == voiced_chunk else None
                self.mic_queue.append((piece, then, done if index == len(pieces) - 1 else None))
        self._start_microphone()
        done.wait(timeout=len(pieces) * self.chunk_ms / 1000.0 + 30.0)
        if not observation.speech_end_t:  # no chunk went out (a closed driver): now is the end
            observation.speech_end_t = time.perf_counter()
        return observation

    def _start_microphone(self) -> None:
        if self.microphone is None:
            self.microphone = threading.Thread(target=self._microphone, name="voice_driver_mic", daemon=True)
            self.microphone.start()

    def _microphone(self) -> None:
        """One chunk every chunk_ms, as a sound card delivers them: queued speech, else silence."""
        quiet = silence(self.chunk_ms / 1000.0, self.rate_hz)
        chunk_s = self.chunk_ms / 1000.0
        next_t = time.monotonic()
        while not self.mic_stop.is_set():
            with self.mic_lock:
                piece, then, done = self.mic_queue.popleft() if self.mic_queue else (quiet, None, None)
            message = AudioChunk()
            message.header.stamp = self.get_clock().now().to_msg()
            message.header.frame_id = "simulated_debtor"
            message.samples = piece.astype(np.float32).tolist()
            message.sample_rate_hz, message.channels, message.turn = self.rate_hz, 1, self.current_turn
            try:
                self.audio_pub.publish(message)
            except Exception:  # the context was shut down
                return
            if then is not None:
                then()
            if done is not None:
                done.set()
            next_t += chunk_s
            now = time.monotonic()
            if next_t < now - 1.0:  # far behind (a stalled machine): do not burst to catch up
                next_t = now
            time.sleep(max(0.0, next_t - now))

    def close(self) -> None:
        self.mic_stop.set()
        if self.microphone is not None:
            self.microphone.join(timeout=2.0)
        self.executor_.shutdown(timeout_sec=1.0)
