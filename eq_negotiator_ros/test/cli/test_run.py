"""`eq-negotiator run`: WAV files named on the command line reach a started audio source, with or
without the microphone; a bad config or a missing file stops it before any node starts."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from eq_negotiator_ros import graph
from eq_negotiator_ros.cli import build_parser, main
from eq_negotiator_ros.cli.run import launch_plan
from eq_negotiator_ros.speech.audio import write_wav

RATE_HZ = 16000


@pytest.fixture
def wav_file(tmp_path):
    path = tmp_path / "debtor.wav"
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(3 * RATE_HZ) / RATE_HZ)
    write_wav(path, tone.astype(np.float32), RATE_HZ)
    return path


def plan(*argv: str):
    return launch_plan(build_parser().parse_args(list(argv)))


def audio_source_parameters(arguments) -> dict:
    spec = next(s for s in graph.selected_nodes(arguments) if s.name == "audio_source")
    return graph.parameter_overrides(spec, arguments)


def test_wav_paths_without_the_microphone_start_the_audio_source_with_the_files(wav_file):
    arguments, overrides = plan(
        "--set", "offer.max_utterances=20", "run", "--use-mic", "false", "--wav-paths", str(wav_file)
    )
    assert audio_source_parameters(arguments) == {"use_mic": False, "wav_paths": [str(wav_file)]}
    assert overrides == {"offer.max_utterances": 20}


def test_relative_wav_paths_given_with_set_are_made_absolute(wav_file, monkeypatch):
    monkeypatch.chdir(wav_file.parent)
    arguments, overrides = plan("--set", "use_mic=false", "--set", f"wav_paths=[{wav_file.name}]", "run")
    # Node parameters named with --set choose the nodes like the launch arguments, and go no further.
    assert overrides == {}
    assert audio_source_parameters(arguments) == {"use_mic": False, "wav_paths": [str(wav_file)]}


def test_without_wav_paths_and_without_the_microphone_no_audio_source_starts():
    arguments, _ = plan("run", "--use-mic", "false")
    assert "audio_source" not in {s.name for s in graph.selected_nodes(arguments)}


def test_a_missing_wav_file_is_one_line_and_exit_code_2(tmp_path, capsys):
    code = main(["run", "--use-mic", "false", "--wav-paths", str(tmp_path / "absent.wav")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "absent.wav" in err and "no such file" in err


@pytest.mark.integration
def test_run_with_wav_paths_publishes_the_file_on_audio_in(wav_file):
    """The audio source as its own process on real DDS (what `run` starts), heard by a subscriber."""
    rclpy = pytest.importorskip("rclpy")
    from rclpy.node import Node

    from eq_negotiator_interfaces.msg import AudioChunk
    from eq_negotiator_ros.graph.runner import NodeGraph
    from eq_negotiator_ros.nodes import topics

    namespace = "/run_wav_test"
    arguments, overrides = plan(
        "run", "--use-mic", "false", "--wav-paths", str(wav_file), "--namespace", namespace
    )
    logs: list[str] = []
    heard: list[AudioChunk] = []
    with NodeGraph(
        arguments, overrides=overrides, nodes=["audio_source"], on_output=lambda name, line: logs.append(line)
    ) as node_graph:
        # The listener comes late, as the ASR node does (it subscribes after loading its model): by
        # then a file played at once would be half gone or over. The audio source waits for it.
        time.sleep(4.0)
        node_graph.check_alive()
        context = rclpy.Context()
        rclpy.init(context=context)
        node = Node("run_wav_listener", namespace=namespace, context=context)
        node.create_subscription(AudioChunk, topics.AUDIO_IN, heard.append, topics.AUDIO_QOS)
        executor = rclpy.executors.SingleThreadedExecutor(context=context)
        executor.add_node(node)
        threading.Thread(target=executor.spin, daemon=True).start()
        deadline = time.monotonic() + 60
        while not any(m.end_of_segment for m in heard) and time.monotonic() < deadline:
            node_graph.check_alive()
            time.sleep(0.2)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
    assert any(m.end_of_segment for m in heard), "\n".join(logs[-20:])
    assert {m.header.frame_id for m in heard} == {"wav"}
    samples = np.concatenate([np.asarray(m.samples, dtype=np.float32) for m in heard])
    # 3 s of tone then the trailing second of silence, every chunk of it, in order.
    assert samples.size == 4 * RATE_HZ
    assert np.abs(samples[: 3 * RATE_HZ]).min() < 0.01 and np.abs(samples[: 3 * RATE_HZ]).max() > 0.25
    assert np.abs(samples[3 * RATE_HZ :]).max() == 0.0
