"""What every node shares: its parameters come from config/negotiator.yaml, its QoS profiles and
topic names follow DESIGN.md's node graph.

Each node declares every key of the package's negotiator.yaml as a ROS parameter (so `ros2 param`
lists and sets them, and `--params-file` overrides them) and builds the same typed
NegotiatorConfig the CLI uses from the values it got.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import rclpy
import rclpy.executors
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data,
)

from ..config import (
    NegotiatorConfig, config_from_parameters, default_config_path, flatten_parameters, read_parameters,
)

# Topic names, relative so that the node's namespace (default /eq_negotiator) applies.
AUDIO_IN = "audio/in"
AUDIO_OUT = "audio/out"
SPEECH = "speech"
ROBOT_SPEAKING = "robot_speaking"
BARGE_IN = "barge_in"
DEBTOR_EMOTION = "debtor_emotion"
NEGOTIATION_STATE = "negotiation_state"
CREDITOR_EXPRESSION = "creditor_expression"
DIRECTIVE = "directive"
REPLY = "reply"
START_SESSION = "start_session"
RESET_SESSION = "reset_session"

# How long a message of a session that negotiation_state has not named yet waits for it.
SESSION_WAIT_S = 3.0

AUDIO_QOS = qos_profile_sensor_data
RELIABLE_QOS = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)
# negotiation_state is latched: a subscriber that joins late still gets the current state.
LATCHED_QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
# The latest directive is latched too: an SLM node restarted while it phrased a reply gets that
# directive again and answers it (HandledRecord tells it whether it had already done so). A
# volatile subscriber (RELIABLE_QOS) still matches this publisher.
# A subscriber of these two that asks for the latched history (as the SLM and TTS nodes do) needs
# a transient-local publisher: publish directives and replies with these profiles.
DIRECTIVE_QOS = LATCHED_QOS
# Subscribers keep more than the one replayed directive queued, so none is lost while they work.
DIRECTIVE_SUBSCRIBER_QOS = QoSProfile(
    depth=20, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
# The latest reply sentences are kept the same way, so a TTS node restarted in the middle of a
# reply speaks the sentences it had not finished.
REPLY_QOS = QoSProfile(
    depth=20, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)


def parameter_descriptions(path: Path) -> dict[str, str]:
    """Dotted key -> the comment lines written just above it in the YAML (its documentation)."""
    descriptions: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    comments: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped.lstrip("# "))
            continue
        match = re.match(r"^(\s*)([A-Za-z_][\w]*)\s*:", line)
        if not match:
            comments = []
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        dotted = ".".join(k for _, k in stack if k not in ("/**", "ros__parameters"))
        if comments:
            descriptions[dotted] = " ".join(comments)
        comments = []
    return descriptions


def declare_config(node: Node) -> NegotiatorConfig:
    """Declare every negotiator.yaml key on the node and return the typed config from their values."""
    defaults_path = default_config_path()
    flat_defaults = flatten_parameters(read_parameters(defaults_path))
    descriptions = parameter_descriptions(defaults_path)
    for name, default in flat_defaults.items():
        # dynamic_typing: a params file that writes [4, 3, 2] (integers) where the default has
        # [4.0, 3.0, 2.0] must not be rejected; the typed config validates and converts instead.
        descriptor = ParameterDescriptor(description=descriptions.get(name, ""), dynamic_typing=True)
        node.declare_parameter(name, default, descriptor)
    values: dict[str, Any] = {}
    for name in flat_defaults:
        value = node.get_parameter(name).value
        values[name] = list(value) if isinstance(value, (list, tuple)) or hasattr(value, "tolist") else value
    return config_from_parameters(values)


def run_node(node_factory) -> None:
    """Entry point body shared by the nodes: init, spin until Ctrl-C or shutdown, clean up."""
    rclpy.init()
    node = None
    try:
        node = node_factory()
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if close:
                close()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


class JobWorker:
    """One background thread that handles jobs in order, so a node holding a slow model (ASR,
    language model, TTS) keeps receiving messages while it works. A failing job is reported and
    the next one runs."""

    def __init__(self, name: str, handle: Callable[[Any], None], on_error: Callable[[str], None]):
        self._jobs: "queue.Queue" = queue.Queue()
        self._handle, self._on_error = handle, on_error
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, job: Any) -> None:
        self._jobs.put(job)

    @property
    def pending(self) -> int:
        return self._jobs.qsize()

    def drain(self) -> list:
        """Remove and return the jobs not started yet."""
        drained = []
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return drained
            if job is not None:
                drained.append(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._handle(job)
            except Exception as error:  # one bad job must not stop the ones after it
                self._on_error(f"{type(error).__name__}: {error}")

    def close(self, timeout_s: float = 5.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=timeout_s)


class CurrentSession:
    """The session that negotiation_state names: the only one a node answers. Messages of any
    other session (an aborted one, or another graph's that shares these topics) are dropped, so
    two sessions never mix replies. The reasoning node publishes the state before the directive,
    but topics are not ordered between each other: a message of a session not named yet waits a
    little for the state that names it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._session_id: Optional[str] = None  # None = no state received yet

    def update(self, session_id: str) -> None:
        with self._changed:
            self._session_id = session_id
            self._changed.notify_all()

    @property
    def session_id(self) -> Optional[str]:
        return self._session_id

    def admits(self, session_id: str, wait_s: float) -> bool:
        """True when session_id is (or within wait_s becomes) the current session."""
        deadline = time.monotonic() + wait_s
        with self._changed:
            while self._session_id != session_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True


class HandledRecord:
    """The last (session, position) a node finished handling, kept in a small file under the run
    directory, so that a restarted node can tell a message it already handled (delivered again by a
    latched topic) from one it had not finished when it died. A file that cannot be read or written
    makes the node answer again rather than stay silent (and it says so)."""

    def __init__(self, node: Node, run_dir: Path):
        namespace = node.get_namespace().strip("/").replace("/", "_") or "root"
        self.path = Path(run_dir) / "progress" / f"{namespace}.{node.get_name()}.json"
        self._logger = node.get_logger()
        self.session_id, self.position = "", ()
        self._write_failed = False
        try:
            data = json.loads(self.path.read_text())
            self.session_id, self.position = str(data["session_id"]), tuple(int(p) for p in data["position"])
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as error:
            self._logger.warning(f"progress file {self.path} unreadable ({error}); starting without it")

    def handled(self, session_id: str, position: tuple[int, ...]) -> bool:
        return bool(session_id) and session_id == self.session_id and tuple(position) <= self.position

    def record(self, session_id: str, position: tuple[int, ...]) -> None:
        self.session_id, self.position = session_id, tuple(position)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps({"session_id": session_id, "position": list(position)}))
            os.replace(partial, self.path)  # atomic: a crash leaves the old record or the new one
        except OSError as error:
            if not self._write_failed:  # once: the node goes on, only a restart could repeat a reply
                self._logger.warning(f"cannot write {self.path}: {error}; after a restart the latest "
                                     f"message may be handled twice")
            self._write_failed = True


def diagnostics_publisher(node: Node):
    return node.create_publisher(DiagnosticArray, "/diagnostics", 10)


def publish_diagnostics(node: Node, publisher, message: str, values: Mapping[str, Any],
                        level: bytes = DiagnosticStatus.OK) -> None:
    """One DiagnosticStatus for this node on /diagnostics (what rqt_robot_monitor shows); level WARN
    when the node works in a degraded way (DiagnosticStatus.OK / WARN / ERROR)."""
    status = DiagnosticStatus(level=level, name=f"eq_negotiator: {node.get_name()}",
                              message=message, hardware_id="eq_negotiator")
    # node and pid tell apart two graphs on one domain and a restarted node from the one it replaced.
    identity = {"node": node.get_fully_qualified_name(), "pid": os.getpid()}
    status.values = [KeyValue(key=key, value=str(value)) for key, value in {**identity, **values}.items()]
    array = DiagnosticArray(status=[status])
    array.header.stamp = node.get_clock().now().to_msg()
    publisher.publish(array)
