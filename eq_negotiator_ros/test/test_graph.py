"""The graph description (graph.py) that the launch file and `eq-negotiator run` both start from:
which nodes start for which arguments, which parameters the arguments set and with which types,
and that every node is an installed executable. The launch file itself runs through the real
launch system in test/integration/test_ros2_launch.py."""

import ast
from pathlib import Path

from eq_negotiator_ros import graph

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def console_scripts() -> set[str]:
    """Node executables named in setup.py (what colcon and pip install)."""
    tree = ast.parse((PACKAGE_ROOT / "setup.py").read_text())
    nodes = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "NODES"
    )
    return {key.value for key in nodes.keys}


def started(**arguments: str) -> dict[str, dict]:
    """Node name -> the parameters the launch arguments set on it."""
    arguments = {**graph.defaults(), **arguments}
    return {spec.name: graph.parameter_overrides(spec, arguments) for spec in graph.selected_nodes(arguments)}


def test_every_node_is_an_installed_executable_and_the_launch_files_are_installed():
    assert console_scripts() == {spec.executable for spec in graph.NODES}
    setup_source = (PACKAGE_ROOT / "setup.py").read_text()
    assert 'glob("launch/*.launch.py")' in setup_source and 'glob("config/*.yaml")' in setup_source
    assert (PACKAGE_ROOT / "launch" / "negotiator.launch.py").is_file()
    assert (PACKAGE_ROOT / "config" / "negotiator.yaml").is_file()


def test_every_launch_argument_has_a_description():
    assert {a.name for a in graph.LAUNCH_ARGUMENTS} == {
        "namespace",
        "params_file",
        "llm_model_path",
        "asr_model_path",
        "tts_voice_path",
        "use_mic",
        "wav_paths",
        "barge_in",
        "gpu_layers",
    }
    assert all(a.description for a in graph.LAUNCH_ARGUMENTS)


def test_the_microphone_argument_chooses_the_audio_source():
    assert set(started()) == {"audio_source", "asr_node", "eq_reasoning_node", "slm_node", "tts_node"}
    assert set(started(use_mic="false")) == {"asr_node", "eq_reasoning_node", "slm_node", "tts_node"}


def test_launch_arguments_reach_their_nodes_with_the_declared_types():
    nodes = started(barge_in="true", gpu_layers="20", llm_model_path="/m.gguf", use_mic="false")
    assert nodes["asr_node"] == {"asr.barge_in": True}
    assert nodes["slm_node"] == {"llm.model_path": "/m.gguf", "llm.gpu_layers": 20}
    assert nodes["eq_reasoning_node"] == {}  # nothing overridden: the params file's values stand


def test_wav_paths_start_the_audio_source_without_the_microphone():
    nodes = started(use_mic="false", wav_paths="/tmp/a.wav, /tmp/b.wav")
    assert nodes["audio_source"] == {"use_mic": False, "wav_paths": ["/tmp/a.wav", "/tmp/b.wav"]}


def test_empty_model_arguments_keep_the_params_file_values():
    nodes = started(use_mic="false")
    assert nodes["slm_node"] == {} and nodes["tts_node"] == {}
    assert started(tts_voice_path="/voices/v.onnx")["tts_node"] == {"tts.voice_path": "/voices/v.onnx"}
