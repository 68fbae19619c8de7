"""Barge-in through the real graph: the ASR and TTS nodes as separate processes on real DDS, the
robot's replies played into a simulated room whose microphone hears them back (demo/barge_in.py).
The robot never stops on its own voice; a person talking over it stops the reply and what they
said becomes their turn."""

import threading

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from eq_negotiator_ros.config import TtsConfig  # noqa: E402
from eq_negotiator_ros.demo.barge_in import RoomNode, run_barge_in_trials, speech_onset  # noqa: E402
from eq_negotiator_ros.graph.runner import NodeGraph  # noqa: E402
from eq_negotiator_ros.speech.audio import resample  # noqa: E402
from eq_negotiator_ros.speech.room import RoomSettings  # noqa: E402
from eq_negotiator_ros.speech.tts import SpeechSynthesizer  # noqa: E402

pytestmark = pytest.mark.integration
NAMESPACE = "/barge_in_test"


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    logs: list[str] = []
    graph = NodeGraph(
        {"namespace": NAMESPACE, "use_mic": "false", "barge_in": "true"},
        overrides={
            "tts.play_audio": False,
            "tts.record": False,
            "run_dir": str(tmp_path_factory.mktemp("run")),
        },
        nodes=["asr_node", "tts_node"],
        on_output=lambda name, line: logs.append(f"[{name}] {line}"),
    )
    graph.start()
    context = rclpy.Context()
    rclpy.init(context=context)
    settings = RoomSettings(
        echo_delay_ms=70.0, echo_gain_db=-6.0, reverb_time_s=0.3, noise_dbfs=-55.0, seed=4
    )
    node = RoomNode(NAMESPACE, settings, chunk_ms=100, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        node.wait_for_graph(240.0, graph.check_alive)
    except TimeoutError as error:
        pytest.fail(f"{error}\n" + "\n".join(logs[-30:]))
    node.start()
    yield node, graph, logs
    node.stop.set()
    executor.shutdown(timeout_sec=1.0)
    node.destroy_node()
    rclpy.shutdown(context=context)
    graph.stop()


def test_replies_played_into_the_microphone_never_interrupt_the_robot_and_a_person_does(room):
    node, graph, logs = room
    voice = SpeechSynthesizer(
        TtsConfig(noise_scale=0.0, noise_w=0.0, length_scale=1.1, pitch_shift_semitones=-4)
    )

    def speak(text: str) -> np.ndarray:
        return resample(voice.synthesize(text), voice.sample_rate_hz, 16000) * 0.5

    results = run_barge_in_trials(node, speak, replies=3, interruptions=3, seed=1, log=logs.append)
    graph.check_alive()
    context = "\n".join(logs[-40:])
    quiet, talked = results[:3], results[3:]
    assert all(r.barge_ins == 0 for r in quiet), f"the robot interrupted itself:\n{context}"
    for result in talked:
        person = speak(result.said)
        speech_s = (person.size - speech_onset(person)) / 16000
        # It stopped (a barge-in, and its sound ended while the person was still talking) ...
        assert result.barge_ins == 1 and result.stop_s is not None, f"{result}\n{context}"
        assert result.stop_s < speech_s, result
        # ... and what the person said is their turn: every word but at most one (a short first
        # word such as "Wait," said as the robot stops can be lost: 3 of 40 in bench-barge-in).
        said = result.said.lower().replace(",", "").replace("?", "").replace(".", "").split()
        heard = result.heard.lower().replace(",", "").replace("?", "").replace(".", "").split()
        assert len(set(said) & set(heard)) >= len(said) - 1, f"{result}\n{context}"
