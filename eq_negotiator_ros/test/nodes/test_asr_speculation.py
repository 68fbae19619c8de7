"""The ASR node (a separate process on real DDS) with the speculative end of turn: recognition starts
on a short silence; a pause shorter than asr.min_silence_ms throws that start away and the turn
is published whole, once; a longer pause ends the utterance and the text recognised early is
published. /diagnostics counts the starts and the discards."""

import threading
import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.node import Node  # noqa: E402

from eq_negotiator_interfaces.msg import AudioChunk, Utterance  # noqa: E402
from eq_negotiator_ros.config import TtsConfig  # noqa: E402
from eq_negotiator_ros.demo.voice_driver import voiced_span  # noqa: E402
from eq_negotiator_ros.graph.runner import NodeGraph  # noqa: E402
from eq_negotiator_ros.nodes import topics  # noqa: E402
from eq_negotiator_ros.speech.audio import iter_chunks, resample, silence  # noqa: E402
from eq_negotiator_ros.speech.tts import SpeechSynthesizer  # noqa: E402

pytestmark = pytest.mark.integration
NAMESPACE = "/asr_speculation_test"
RATE = 16000
FIRST = "I lost my job last month."
SECOND = "Could we say ninety days?"


@pytest.fixture(scope="module")
def asr():
    logs: list[str] = []
    graph = NodeGraph(
        {"namespace": NAMESPACE, "use_mic": "false"},
        nodes=["asr_node"],
        # Continuations are not joined here (no robot answers in this graph): each part is its own.
        overrides={
            "asr.speculative_silence_ms": 200,
            "asr.min_silence_ms": 500,
            "asr.continuation_window_ms": 0,
        },
        on_output=lambda name, line: logs.append(line),
    )
    graph.start()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("asr_speculation_tester", namespace=NAMESPACE, context=context)
    heard: list[str] = []
    counts: dict[str, int] = {}

    def on_diagnostics(message: DiagnosticArray) -> None:
        for status in message.status:
            values = {v.key: v.value for v in status.values}
            if "speculative_starts" in values:
                counts.update(
                    starts=int(values["speculative_starts"]), discards=int(values["speculative_discards"])
                )

    node.create_subscription(Utterance, topics.SPEECH, lambda m: heard.append(m.text), topics.RELIABLE_QOS)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 50)
    audio_pub = node.create_publisher(AudioChunk, topics.AUDIO_IN, topics.AUDIO_QOS)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    deadline = time.monotonic() + 120
    while audio_pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        graph.check_alive()
        time.sleep(0.2)
    assert audio_pub.get_subscription_count() > 0, "\n".join(logs[-20:])

    def send(samples: np.ndarray) -> None:
        for piece in iter_chunks(samples, RATE, 100, pad_last=True):
            audio_pub.publish(AudioChunk(samples=piece.tolist(), sample_rate_hz=RATE, channels=1))
            time.sleep(0.1)  # real time: the recognition of a tentative end races the rest of the pause

    # The same audio every run (Piper's noise off).
    voice = SpeechSynthesizer(TtsConfig(noise_scale=0.0, noise_w=0.0, sentence_pause_s=0.0))

    def speak(text: str) -> np.ndarray:
        """The sentence's voice only (Piper's silence around it taken off): pauses are exact."""
        audio = resample(voice.synthesize(text), voice.sample_rate_hz, RATE)
        start, end = voiced_span(audio, RATE)
        return audio[start:end]

    # Until both sides of the best-effort audio topic are matched: one utterance heard.
    deadline = time.monotonic() + 60
    while not heard and time.monotonic() < deadline:
        send(np.concatenate([silence(0.3, RATE), speak("Hello there."), silence(1.0, RATE)]))
    assert heard, "the ASR node never heard the warm-up utterance:\n" + "\n".join(logs[-20:])
    yield graph, send, speak, heard, counts
    executor.shutdown(timeout_sec=1.0)
    node.destroy_node()
    rclpy.shutdown(context=context)
    graph.stop()


def _wait(predicate, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)
    return predicate()


def _settled_counts(counts: dict[str, int]) -> dict[str, int]:
    time.sleep(2.5)  # diagnostics come once a second
    return dict(counts)


def test_a_short_pause_inside_a_turn_discards_the_early_start_and_the_turn_arrives_whole(asr):
    graph, send, speak, heard, counts = asr
    before_counts = _settled_counts(counts)
    before = len(heard)
    send(
        np.concatenate(
            [silence(0.3, RATE), speak(FIRST), silence(0.35, RATE), speak(SECOND), silence(1.5, RATE)]
        )
    )
    assert _wait(lambda: len(heard) > before)
    after = _settled_counts(counts)
    assert len(heard) == before + 1, heard[before:]
    text = heard[before].lower()
    assert "job" in text and ("ninety" in text or "90" in text), text
    assert after["discards"] >= before_counts["discards"] + 1
    assert after["starts"] >= before_counts["starts"] + 2
    graph.check_alive()


def test_a_long_pause_publishes_each_part_recognised_early_and_nothing_twice(asr):
    graph, send, speak, heard, counts = asr
    before_counts = _settled_counts(counts)
    before = len(heard)
    send(
        np.concatenate(
            [silence(0.3, RATE), speak(FIRST), silence(1.0, RATE), speak(SECOND), silence(1.5, RATE)]
        )
    )
    assert _wait(lambda: len(heard) >= before + 2)
    after = _settled_counts(counts)
    assert len(heard) == before + 2, heard[before:]
    assert "job" in heard[before].lower()
    assert "ninety" in heard[before + 1].lower() or "90" in heard[before + 1]
    # Each part was started on its short silence and confirmed, none thrown away.
    assert after["starts"] == before_counts["starts"] + 2
    assert after["discards"] == before_counts["discards"]
    graph.check_alive()
