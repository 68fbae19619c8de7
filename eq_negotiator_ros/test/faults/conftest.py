"""Fault-injection tests: the real reasoning node in its own process, spoken to over real DDS from
the test process, while a file or a lock is made to fail under it.

Helpers for the persistence cases: ReasoningNodeProcess (the node as `eq-negotiator run` starts
it, with parameter overrides) and NegotiatorClient (start_session / reset_session through the real
services, debtor speech on the speech topic, the latched negotiation_state and /diagnostics).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import yaml

from eq_negotiator_ros.config import default_config_path, unflatten_parameters

REASONING_STATUS = "eq_negotiator: eq_reasoning_node"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if f"{os.sep}faults{os.sep}" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


class ReasoningNodeProcess:
    """eq_reasoning_node as a child process in its own namespace; its log lines are kept."""

    def __init__(self, tmp_path: Path, overrides: dict[str, Any], namespace: Optional[str] = None):
        from eq_negotiator_ros.graph.runner import executable_path

        self.namespace = namespace or f"/faults_{uuid.uuid4().hex[:8]}"
        params = tmp_path / f"overrides_{uuid.uuid4().hex[:6]}.yaml"
        params.write_text(yaml.safe_dump({"/**": {"ros__parameters": unflatten_parameters(overrides)}}))
        self.command = [
            executable_path("eq_reasoning_node"),
            "--ros-args",
            "-r",
            f"__ns:={self.namespace}",
            "--params-file",
            str(default_config_path()),
            "--params-file",
            str(params),
        ]
        self.lines: list[str] = []
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "ReasoningNodeProcess":
        self.process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._pump, daemon=True).start()
        return self

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        if self.alive:
            self.process.send_signal(2)  # SIGINT: the node closes its store
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class NegotiatorClient:
    """What a dialogue manager would do: call the services, publish debtor speech, watch state."""

    def __init__(self, namespace: str):
        import rclpy
        import rclpy.executors
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.node import Node

        from eq_negotiator_interfaces.msg import CreditorDirective, NegotiationState, Utterance
        from eq_negotiator_interfaces.srv import ResetSession, StartSession
        from eq_negotiator_ros.nodes import topics

        self._rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node(f"fault_client_{uuid.uuid4().hex[:6]}", context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        ns = namespace.rstrip("/")
        self.Utterance, self.StartSession, self.ResetSession = Utterance, StartSession, ResetSession
        self.start_client = self.node.create_client(StartSession, f"{ns}/{topics.START_SESSION}")
        self.reset_client = self.node.create_client(ResetSession, f"{ns}/{topics.RESET_SESSION}")
        self.speech_pub = self.node.create_publisher(Utterance, f"{ns}/{topics.SPEECH}", topics.RELIABLE_QOS)
        self.states: list = []
        self.directives: list = []
        self.diagnostics: list[dict[str, str]] = []
        self.node.create_subscription(
            NegotiationState, f"{ns}/{topics.NEGOTIATION_STATE}", self.states.append, topics.LATCHED_QOS
        )
        self.node.create_subscription(
            CreditorDirective, f"{ns}/{topics.DIRECTIVE}", self.directives.append, topics.RELIABLE_QOS
        )
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)

    def _on_diagnostics(self, array) -> None:
        for status in array.status:
            if status.name == REASONING_STATUS:
                values = {kv.key: kv.value for kv in status.values}
                if values.get("lifecycle_state", "active") != "active":
                    continue  # a lifecycle transition on the way up: no persistence figures yet
                values["level"] = (
                    int.from_bytes(status.level, "little")
                    if isinstance(status.level, bytes)
                    else int(status.level)
                )
                values["message"] = status.message
                self.diagnostics.append(values)

    def spin_until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return True
            self.executor.spin_once(timeout_sec=0.1)
        return condition()

    def wait_for_node(self, timeout_s: float = 90.0) -> None:
        """Until the services answer and the latched state has arrived (the node is up)."""
        assert self.start_client.wait_for_service(timeout_sec=timeout_s), "start_session never appeared"
        assert self.spin_until(lambda: bool(self.states), 30.0), "no negotiation_state from the node"

    def call(self, client, request, timeout_s: float):
        """The service response, or None when none came within timeout_s."""
        future = client.call_async(request)
        self.spin_until(future.done, timeout_s)
        if not future.done():
            client.remove_pending_request(future)
            return None
        return future.result()

    def start_session(self, timeout_s: float = 30.0):
        return self.call(self.start_client, self.StartSession.Request(), timeout_s)

    def reset_session(self, forget_learning: bool = False, timeout_s: float = 30.0):
        request = self.ResetSession.Request(forget_learning=forget_learning)
        return self.call(self.reset_client, request, timeout_s)

    @property
    def state(self):
        return self.states[-1] if self.states else None

    def say(self, text: str, timeout_s: float = 30.0):
        """Speak one debtor line; the state after the node has answered it (None: no answer)."""
        session_id = self.state.session_id if self.state else ""
        turn = self.state.turn if self.state else 0
        message = self.Utterance(text=text, final=True, confidence=0.9, language="en")
        if hasattr(message, "session_id"):
            message.session_id = session_id
        self.speech_pub.publish(message)
        answered = self.spin_until(
            lambda: self.state.session_id == session_id and self.state.turn > turn, timeout_s
        )
        return self.state if answered else None

    def latest_persistence(self, timeout_s: float = 10.0) -> dict[str, str]:
        """The next diagnostics of the reasoning node (published every 2 s)."""
        count = len(self.diagnostics)
        assert self.spin_until(lambda: len(self.diagnostics) > count, timeout_s), "no diagnostics"
        return self.diagnostics[-1]

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self._rclpy.shutdown(context=self.context)


@pytest.fixture
def reasoning_node(tmp_path):
    """start(overrides) -> (process, client); both are stopped after the test."""
    started: list[tuple[ReasoningNodeProcess, NegotiatorClient]] = []

    def start(overrides: dict[str, Any]) -> tuple[ReasoningNodeProcess, NegotiatorClient]:
        process = ReasoningNodeProcess(tmp_path, overrides).start()
        client = NegotiatorClient(process.namespace)
        started.append((process, client))
        try:
            client.wait_for_node()
        except AssertionError as error:
            raise AssertionError(f"{error}; node output:\n{process.output()}") from None
        return process, client

    yield start
    for process, client in started:
        client.close()
        process.stop()
