"""The node graph, described once: the launch file (`ros2 launch`) and `eq-negotiator run` (this
machine, where ros2cli is not installable) both start exactly these nodes with these parameters.

Pure data and small functions: no ROS import, so the launch-file check can test it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_NAMESPACE = "eq_negotiator"


@dataclass(frozen=True)
class LaunchArgument:
    name: str
    default: str
    description: str
    # ROS parameter it sets on every node that declares it ("" = used to pick nodes, not a parameter).
    parameter: str = ""
    # Nodes that receive the parameter (empty = all).
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeSpec:
    executable: str
    name: str
    # Started only when this boolean launch argument is true ("" = always) ...
    condition: str = ""
    # ... or when this launch argument is not empty (WAV files to play need the audio source).
    also_when_given: str = ""
    extra_parameters: tuple[str, ...] = field(default=())
    # A lifecycle node (it holds a model): the launch file configures and activates it; run lets it
    # do so itself (parameter autostart).
    managed: bool = False


LAUNCH_ARGUMENTS: tuple[LaunchArgument, ...] = (
    LaunchArgument("namespace", DEFAULT_NAMESPACE, "namespace of every node and topic"),
    LaunchArgument("params_file", "", "negotiator.yaml to use (empty: the package's config/negotiator.yaml)"),
    LaunchArgument(
        "llm_model_path",
        "",
        "GGUF language model (empty: the params file's llm.model_path)",
        "llm.model_path",
        ("slm_node",),
    ),
    LaunchArgument(
        "asr_model_path",
        "",
        "CTranslate2 Whisper model directory (empty: the params file's)",
        "asr.model_path",
        ("asr_node",),
    ),
    LaunchArgument(
        "tts_voice_path", "", "Piper .onnx voice (empty: the params file's)", "tts.voice_path", ("tts_node",)
    ),
    LaunchArgument(
        "use_mic",
        "true",
        "start the microphone source (false: publish audio/in yourself)",
        "use_mic",
        ("audio_source",),
    ),
    LaunchArgument(
        "wav_paths",
        "",
        "WAV files to play as the input, comma-separated (not the microphone)",
        "wav_paths",
        ("audio_source",),
    ),
    LaunchArgument(
        "barge_in",
        "",
        "the person's speech during a reply stops it (empty: the params file's asr.barge_in, true)",
        "asr.barge_in",
        ("asr_node",),
    ),
    LaunchArgument(
        "gpu_layers",
        "",
        "language-model layers on the GPU (empty: the params file's llm.gpu_layers)",
        "llm.gpu_layers",
        ("slm_node",),
    ),
)

NODES: tuple[NodeSpec, ...] = (
    NodeSpec("audio_source", "audio_source", condition="use_mic", also_when_given="wav_paths"),
    NodeSpec("asr_node", "asr_node", managed=True),
    NodeSpec("eq_reasoning_node", "eq_reasoning_node", managed=True),
    NodeSpec("slm_node", "slm_node", managed=True),
    NodeSpec("tts_node", "tts_node", managed=True),
)
MODEL_NODES = tuple(spec.name for spec in NODES if spec.managed)

TRUE_WORDS = ("true", "1", "yes", "on")


def parse_bool(value: str) -> bool:
    return str(value).strip().lower() in TRUE_WORDS


def typed_value(parameter: str, value: str):
    """Launch arguments are strings; give each parameter the type its node declares."""
    if parameter in ("use_mic", "asr.barge_in"):
        return parse_bool(value)
    if parameter == "llm.gpu_layers":
        return int(value)
    if parameter == "wav_paths":
        return split_paths(value)
    return value


def split_paths(value: str) -> list[str]:
    """ "a.wav, b.wav" -> ["a.wav", "b.wav"] (a launch argument is one string)."""
    return [p.strip() for p in str(value).split(",") if p.strip()]


def selected_nodes(arguments: dict[str, str]) -> list[NodeSpec]:
    return [n for n in NODES if _wanted(n, arguments)]


def _wanted(node: NodeSpec, arguments: dict[str, str]) -> bool:
    if not node.condition or parse_bool(arguments.get(node.condition, "false")):
        return True
    return bool(node.also_when_given and str(arguments.get(node.also_when_given, "")).strip())


def parameter_overrides(node: NodeSpec, arguments: dict[str, str]) -> dict:
    """Parameters the launch arguments set on one node; an empty argument keeps the params file's value."""
    overrides = {}
    for argument in LAUNCH_ARGUMENTS:
        if not argument.parameter or (argument.nodes and node.name not in argument.nodes):
            continue
        value = arguments.get(argument.name, argument.default)
        if value == "":
            continue
        overrides[argument.parameter] = typed_value(argument.parameter, value)
    return overrides


def defaults() -> dict[str, str]:
    return {a.name: a.default for a in LAUNCH_ARGUMENTS}


# -- supervision: which node may be restarted after it dies, and why ------------------------

# A dead node is restarted after RESTART_BACKOFF_S seconds, doubled on each further death
# (capped at RESTART_BACKOFF_MAX_S); after MAX_RESTARTS deaths within RESTART_WINDOW_S the node is
# failing for a reason a restart will not fix (a broken model file, a full disk), and the graph
# stops with an error instead of looping.
RESTART_BACKOFF_S = 1.0
RESTART_BACKOFF_MAX_S = 30.0
MAX_RESTARTS = 5
RESTART_WINDOW_S = 300.0


@dataclass(frozen=True)
class RestartPolicy:
    allowed: bool
    reason: str


def restart_policy(node_name: str, arguments: dict[str, str]) -> RestartPolicy:
    """Whether restarting this node after it died can lose or repeat anything, and why."""
    if node_name == "eq_reasoning_node":
        return RestartPolicy(
            True,
            "every turn is in the SQLite store before it is published; "
            "the restarted node resumes the same session at the same turn",
        )
    if node_name == "asr_node":
        return RestartPolicy(
            True,
            "it keeps no state between utterances; only speech heard while it was "
            "down is lost, and no turn had been made of it",
        )
    if node_name == "slm_node":
        return RestartPolicy(
            True,
            "each directive carries everything needed to phrase it; only the "
            "reply being generated when it died is lost",
        )
    if node_name == "tts_node":
        return RestartPolicy(
            True, "it speaks each sentence as it comes; only the sentence being spoken when it died is lost"
        )
    if node_name == "audio_source":
        if parse_bool(arguments.get("use_mic", "false")):
            return RestartPolicy(True, "a microphone is read live; nothing is replayed")
        return RestartPolicy(
            False, "it plays WAV files from the start: a restart would say the debtor's turns a second time"
        )
    return RestartPolicy(False, "no restart rule for this node")
