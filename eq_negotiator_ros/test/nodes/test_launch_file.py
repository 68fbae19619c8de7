"""The launch file against the package: every executable it starts is an entry point, every
parameter it passes is declared by that node, the params file it names exists.

`launch` and `launch_ros` are not installable from PyPI, so the launch file runs here against
small recording stand-ins of the classes it uses; the checks are about what it asks for."""

import ast
import importlib.util
import sys
import types
from pathlib import Path

import pytest

from eq_negotiator_ros import graph
from eq_negotiator_ros.config import default_config_path, flatten_parameters, read_parameters

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
LAUNCH_FILE = PACKAGE_ROOT / "launch" / "negotiator.launch.py"
NODE_MODULES = {"audio_source": "audio_source_node", "asr_node": "asr_node", "eq_reasoning_node": "eq_reasoning_node",
                "slm_node": "slm_node", "tts_node": "tts_node"}


def console_scripts() -> dict[str, str]:
    """name -> module, read from setup.py's entry points (what colcon and pip install)."""
    tree = ast.parse((PACKAGE_ROOT / "setup.py").read_text())
    nodes = next(node.value for node in ast.walk(tree)
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "NODES")
    return {k.value: v.value for k, v in zip(nodes.keys, nodes.values)}


def declared_parameters(executable: str) -> set[str]:
    """Config keys (declared by every node through common.declare_config) plus the node's own."""
    names = set(flatten_parameters(read_parameters(default_config_path())))
    source = (PACKAGE_ROOT / "eq_negotiator_ros" / "nodes" / f"{NODE_MODULES[executable]}.py").read_text()
    tree = ast.parse(source)
    assert "declare_config(self)" in source, f"{executable} does not declare the config parameters"
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "declare_parameter":
            names.add(call.args[0].value)
    return names


class Recorder:
    nodes: list[dict] = []


def stub_launch_modules(arguments: dict[str, str]) -> dict[str, types.ModuleType]:
    launch = types.ModuleType("launch")
    actions = types.ModuleType("launch.actions")
    substitutions = types.ModuleType("launch.substitutions")
    launch_ros = types.ModuleType("launch_ros")
    launch_ros_actions = types.ModuleType("launch_ros.actions")
    ament = types.ModuleType("ament_index_python.packages")

    class LaunchDescription(list):
        pass

    class DeclareLaunchArgument:
        def __init__(self, name, default_value="", description=""):
            self.name, self.default_value, self.description = name, default_value, description

    class OpaqueFunction:
        def __init__(self, function):
            self.function = function

    class LaunchConfiguration:
        def __init__(self, name):
            self.name = name

        def perform(self, context):
            return context[self.name]

    def Node(**kwargs):  # noqa: N802 - stands in for launch_ros.actions.Node
        Recorder.nodes.append(kwargs)
        return kwargs

    launch.LaunchDescription = LaunchDescription
    actions.DeclareLaunchArgument, actions.OpaqueFunction = DeclareLaunchArgument, OpaqueFunction
    substitutions.LaunchConfiguration = LaunchConfiguration
    launch_ros_actions.Node = Node
    ament.get_package_share_directory = lambda package: str(PACKAGE_ROOT)  # share/ mirrors the source tree
    return {"launch": launch, "launch.actions": actions, "launch.substitutions": substitutions,
            "launch_ros": launch_ros, "launch_ros.actions": launch_ros_actions,
            "ament_index_python.packages": ament}


def run_launch_file(monkeypatch, **overrides) -> list[dict]:
    for name, module in stub_launch_modules({}).items():
        monkeypatch.setitem(sys.modules, name, module)
    Recorder.nodes = []
    spec = importlib.util.spec_from_file_location("negotiator_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    declared = {a.name: a.default_value for a in description if hasattr(a, "default_value")}
    context = {**declared, **overrides}
    for action in description:
        if hasattr(action, "function"):
            action.function(context)
    return Recorder.nodes


def test_every_launch_argument_is_declared_with_a_description(monkeypatch):
    for name, module in stub_launch_modules({}).items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("negotiator_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    declared = [a for a in module.generate_launch_description() if hasattr(a, "default_value")]
    assert {a.name for a in declared} == {"namespace", "params_file", "llm_model_path", "asr_model_path",
                                          "tts_voice_path", "use_mic", "wav_paths", "barge_in", "gpu_layers"}
    assert all(a.description for a in declared)


@pytest.mark.parametrize("overrides", [
    {},
    {"use_mic": "false", "barge_in": "true", "llm_model_path": "/models/other.gguf", "gpu_layers": "99",
     "asr_model_path": "/models/whisper", "tts_voice_path": "/voices/v.onnx", "namespace": "robot1"},
])
def test_launch_file_starts_entry_points_with_declared_parameters(monkeypatch, overrides):
    nodes = run_launch_file(monkeypatch, **overrides)
    scripts = console_scripts()
    started = {n["executable"] for n in nodes}
    expected = {"asr_node", "eq_reasoning_node", "slm_node", "tts_node"}
    if graph.parse_bool(overrides.get("use_mic", "true")):
        expected.add("audio_source")
    assert started == expected
    for node in nodes:
        assert node["package"] == "eq_negotiator_ros"
        assert node["executable"] in scripts, f"{node['executable']} is not an entry point in setup.py"
        params_file, *override_dicts = node["parameters"]
        assert Path(params_file).is_file(), f"params file {params_file} does not exist"
        declared = declared_parameters(node["executable"])
        for overrides_dict in override_dicts:
            for parameter in overrides_dict:
                assert parameter in declared, f"{node['executable']} does not declare {parameter}"
        assert node["namespace"] == overrides.get("namespace", "eq_negotiator")


def test_launch_arguments_reach_their_nodes_with_the_declared_types(monkeypatch):
    nodes = run_launch_file(monkeypatch, barge_in="true", gpu_layers="20", llm_model_path="/m.gguf")
    by_name = {n["executable"]: n for n in nodes}
    assert by_name["asr_node"]["parameters"][1] == {"asr.barge_in": True}
    assert by_name["slm_node"]["parameters"][1] == {"llm.model_path": "/m.gguf", "llm.gpu_layers": 20}
    assert len(by_name["eq_reasoning_node"]["parameters"]) == 1  # nothing overridden: the file's values stand


def test_wav_paths_start_the_audio_source_without_the_microphone(monkeypatch):
    nodes = run_launch_file(monkeypatch, use_mic="false", wav_paths="/tmp/a.wav, /tmp/b.wav")
    source = next(n for n in nodes if n["executable"] == "audio_source")
    assert source["parameters"][1] == {"use_mic": False, "wav_paths": ["/tmp/a.wav", "/tmp/b.wav"]}
    assert "audio_source" not in {n["executable"] for n in run_launch_file(monkeypatch, use_mic="false")}


def test_empty_model_arguments_keep_the_params_file_values(monkeypatch):
    nodes = run_launch_file(monkeypatch)
    slm = next(n for n in nodes if n["executable"] == "slm_node")
    assert slm["parameters"][1:] == []


def test_setup_installs_the_launch_and_config_files():
    setup_source = (PACKAGE_ROOT / "setup.py").read_text()
    assert 'glob("launch/*.launch.py")' in setup_source and 'glob("config/*.yaml")' in setup_source
    assert (PACKAGE_ROOT / "config" / "negotiator.yaml").is_file()
    assert set(console_scripts()) == {spec.executable for spec in graph.NODES}
