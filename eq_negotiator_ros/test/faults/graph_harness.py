"""Helpers for the graph fault cases: the `eq-negotiator` command as a child process, its node
processes found through /proc, and a watcher of /diagnostics and of one namespace's topics in the
test process (real DDS)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

NODE_NAMES = ("asr_node", "eq_reasoning_node", "slm_node", "tts_node")

# Debtor lines that neither name a number nor accept: the negotiation is still going after each,
# so every turn of a fault run is a turn of the same open session.
STALLING_LINES = (
    "I lost my job last month and I really cannot pay all of this so soon.",
    "Please, I need a lot more time than that, it is too hard for me.",
    "No, that is still far too soon for me, I am sorry.",
    "I honestly cannot manage it, my rent is due as well.",
    "That is still impossible for me right now, I need more time.",
    "I am trying my best, but I still need much more time.",
    "I understand, but it is still too soon for me, sorry.",
)


def eq_negotiator_command(*args: str) -> list[str]:
    return [str(Path(sys.prefix) / "bin" / "eq-negotiator"), *args]


class CommandProcess:
    """`eq-negotiator ...` as a child process; its output lines are collected as they come."""

    def __init__(self, args: list[str], cwd: Optional[Path] = None):
        self.process = subprocess.Popen(
            eq_negotiator_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=cwd,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, predicate: Callable[[str], bool], timeout_s: float) -> Optional[str]:
        deadline = time.monotonic() + timeout_s
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if predicate(line):
                        return line
                seen = len(self.lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None and seen == len(self.lines):
                    return None
                self._changed.wait(min(remaining, 0.5))

    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def child_processes(pid: int) -> dict[int, str]:
    """Direct children of pid: child pid -> command line (Linux /proc)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                children[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return children


def node_pids(runner_pid: int) -> dict[str, int]:
    """The node processes a graph runner started: node executable name -> pid."""
    found = {}
    for pid, command in child_processes(runner_pid).items():
        for name in NODE_NAMES + ("audio_source",):
            if f"__node:={name}" in command:
                found[name] = pid
    return found


def process_running(pid: int) -> bool:
    """True while pid exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def unique_namespace(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


class GraphWatcher:
    """A node in the test process that watches /diagnostics (which node process reports, with
    which values) and, optionally, publishes into and listens to one namespace's topics."""

    def __init__(self, namespace: str):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node

        from eq_negotiator_interfaces.msg import AudioChunk, CreditorDirective, NegotiationState, ReplyChunk
        from eq_negotiator_ros.nodes import topics

        self._rclpy = rclpy
        self.namespace = "/" + namespace.strip("/")
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node(f"fault_watcher_{uuid.uuid4().hex[:6]}", context=self.context)
        self.lock = threading.Condition()
        self.heartbeats: dict[str, dict[str, str]] = {}  # fully qualified node name -> latest values
        self.graph_status: dict[str, dict[str, str]] = {}  # node -> the runner's report on it
        self.replies: list = []
        self.audio_turns: list[int] = []
        ns = self.namespace
        self.state_pub = self.node.create_publisher(
            NegotiationState, f"{ns}/{topics.NEGOTIATION_STATE}", topics.LATCHED_QOS
        )
        # Latched, as the reasoning and SLM nodes publish them (the nodes ask for their history).
        self.directive_pub = self.node.create_publisher(
            CreditorDirective, f"{ns}/{topics.DIRECTIVE}", topics.DIRECTIVE_QOS
        )
        self.reply_pub = self.node.create_publisher(ReplyChunk, f"{ns}/{topics.REPLY}", topics.REPLY_QOS)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 50)
        self.node.create_subscription(ReplyChunk, f"{ns}/{topics.REPLY}", self._on_reply, topics.RELIABLE_QOS)
        self.node.create_subscription(
            AudioChunk, f"{ns}/{topics.AUDIO_OUT}", self._on_audio, topics.AUDIO_QOS
        )
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.spinner = threading.Thread(target=self._spin, daemon=True)
        self.spinner.start()

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:  # the context was shut down while spinning
            pass

    def _on_diagnostics(self, array) -> None:
        with self.lock:
            for status in array.status:
                values = {kv.key: kv.value for kv in status.values}
                values["message"] = status.message
                if values.get("node", "").startswith(self.namespace + "/"):
                    self.heartbeats[values["node"]] = values
                prefix = "eq_negotiator: graph/"
                if status.name.startswith(prefix):
                    self.graph_status[status.name[len(prefix) :]] = values
            self.lock.notify_all()

    def _on_reply(self, message) -> None:
        with self.lock:
            self.replies.append(message)
            self.lock.notify_all()

    def _on_audio(self, message) -> None:
        with self.lock:
            if message.end_of_segment:
                self.audio_turns.append(int(message.turn))
            self.lock.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.lock.wait(min(remaining, 0.2))
            return True

    def reporting_pid(self, node: str) -> int:
        values = self.heartbeats.get(f"{self.namespace}/{node}", {})
        return int(values.get("pid", "0") or 0)

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        self._rclpy.shutdown(context=self.context)
