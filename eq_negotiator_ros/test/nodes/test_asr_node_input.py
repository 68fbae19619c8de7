"""The ASR node, a separate process on real DDS, fed bad audio: no crash, no turn from noise,
speech at another sample rate is resampled and recognised, clipped speech is still heard."""

import threading
import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.node import Node  # noqa: E402
from std_msgs.msg import Bool  # noqa: E402

from eq_negotiator_interfaces.msg import AudioChunk, Utterance  # noqa: E402
from eq_negotiator_ros.graph.runner import NodeGraph  # noqa: E402
from eq_negotiator_ros.nodes import topics  # noqa: E402
from eq_negotiator_ros.speech.audio import iter_chunks, resample, silence  # noqa: E402
from eq_negotiator_ros.speech.tts import SpeechSynthesizer  # noqa: E402

pytestmark = pytest.mark.integration
NAMESPACE = "/asr_input_test"
RATE = 16000


@pytest.fixture(scope="module")
def asr_graph():
    logs = []
    graph = NodeGraph(
        {"namespace": NAMESPACE, "use_mic": "false"},
        nodes=["asr_node"],
        on_output=lambda name, line: logs.append(line),
    )
    graph.start()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("asr_input_tester", namespace=NAMESPACE, context=context)
    heard: list[str] = []
    node.create_subscription(Utterance, topics.SPEECH, lambda m: heard.append(m.text), topics.RELIABLE_QOS)
    audio_pub = node.create_publisher(AudioChunk, topics.AUDIO_IN, topics.AUDIO_QOS)
    speaking_pub = node.create_publisher(Bool, topics.ROBOT_SPEAKING, topics.LATCHED_QOS)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    deadline = time.monotonic() + 120
    while audio_pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        graph.check_alive()
        time.sleep(0.2)
    assert audio_pub.get_subscription_count() > 0, "\n".join(logs[-20:])

    def send(samples: np.ndarray, rate: int = RATE, chunk_ms: int = 100, channels: int = 1) -> None:
        for piece in iter_chunks(samples, rate * channels, chunk_ms, pad_last=False):
            message = AudioChunk(
                samples=piece.astype(np.float32).tolist(), sample_rate_hz=rate, channels=channels
            )
            audio_pub.publish(message)
            time.sleep(chunk_ms / 1000.0 / 4)  # faster than real time; the VAD counts samples, not seconds

    # Discovery is complete on the publisher's side before the subscriber's: best-effort audio sent
    # in that window is lost. One utterance heard means both sides are matched.
    voice = SpeechSynthesizer()
    warmup = resample(voice.synthesize("Hello there."), voice.sample_rate_hz, RATE)
    deadline = time.monotonic() + 60
    while not heard and time.monotonic() < deadline:
        send(np.concatenate([warmup, silence(1.0, RATE)]))
        time.sleep(2.0)
    assert heard, "the ASR node never heard the warm-up utterance:\n" + "\n".join(logs[-20:])
    yield graph, send, heard, speaking_pub, logs
    executor.shutdown(timeout_sec=1.0)
    node.destroy_node()
    rclpy.shutdown(context=context)
    graph.stop()


@pytest.fixture(scope="module")
def speech_16k():
    voice = SpeechSynthesizer()
    audio = voice.synthesize("I can pay the rest in ninety days.")
    return resample(audio, voice.sample_rate_hz, RATE), audio, voice.sample_rate_hz


def wait_heard(heard: list, count: int, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while len(heard) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(heard) >= count


def test_noise_silence_and_empty_chunks_make_no_turn(asr_graph):
    graph, send, heard, _, _ = asr_graph
    before = len(heard)
    rng = np.random.default_rng(3)
    send(np.zeros(0, dtype=np.float32))
    send(silence(2.0, RATE))
    send((rng.standard_normal(RATE * 3) * 0.3).astype(np.float32))
    send(silence(1.0, RATE))
    time.sleep(3.0)
    graph.check_alive()
    assert heard[before:] == []


def test_speech_at_another_rate_and_clipped_speech_are_recognised(asr_graph, speech_16k):
    graph, send, heard, _, _ = asr_graph
    _, audio_22k, rate_22k = speech_16k
    before = len(heard)
    send(np.concatenate([audio_22k, np.zeros(int(rate_22k * 1.2), dtype=np.float32)]), rate=rate_22k)
    assert wait_heard(heard, before + 1), "speech at 22.05 kHz was not recognised"
    assert "ninety" in heard[before].lower() or "90" in heard[before]
    clipped = np.clip(speech_16k[0] * 8.0, -1.0, 1.0)
    send(np.concatenate([clipped, silence(1.2, RATE)]))
    assert wait_heard(heard, before + 2), "clipped speech was not recognised"
    graph.check_alive()


def test_stereo_input_is_mixed_down(asr_graph, speech_16k):
    graph, send, heard, _, _ = asr_graph
    before = len(heard)
    mono = np.concatenate([speech_16k[0], silence(1.2, RATE)])
    send(np.repeat(mono, 2), channels=2)
    assert wait_heard(heard, before + 1)
    graph.check_alive()


def test_speech_while_a_reply_is_on_is_heard_when_it_is_not_the_robots_own_voice(asr_graph, speech_16k):
    # robot_speaking says a reply is on, but nothing the robot played (audio/out, the echo
    # reference) is in the microphone: what is heard is the person's, and it is their turn. The
    # robot's own voice coming back is test/integration/test_barge_in.py's subject.
    graph, send, heard, speaking_pub, _ = asr_graph
    speaking_pub.publish(Bool(data=True))
    time.sleep(0.5)
    before = len(heard)
    send(np.concatenate([speech_16k[0], silence(1.2, RATE)]))
    assert wait_heard(heard, before + 1), "the person's words during a reply were lost"
    assert "ninety" in heard[before].lower() or "90" in heard[before]
    speaking_pub.publish(Bool(data=False))
    time.sleep(0.5)
    send(np.concatenate([speech_16k[0], silence(1.2, RATE)]))
    assert wait_heard(heard, before + 2)
