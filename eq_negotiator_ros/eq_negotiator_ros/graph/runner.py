"""Starts the node graph (graph.description) as separate processes (real DDS between them), as
`ros2 launch` would: used by `eq-negotiator run`, `demo`, `bench-latency` and the integration tests.

Each node runs in a process group of its own, so a stop reaches the node and whatever it started
(`aplay`, `arecord`), and the terminal's Ctrl-C reaches the graph runner only, which forwards it.
A node is also told to stop when the graph runner dies without cleaning up (Linux
PR_SET_PDEATHSIG), so no node outlives it. The runner supervises its nodes: a node that dies is
reported and, when graph.restart_policy says that is safe, restarted with a bounded backoff.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import yaml

from ..config import default_config_path, unflatten_parameters
from . import description as graph

# How long the nodes get to shut down cleanly (rclpy handles SIGINT and SIGTERM) before SIGKILL.
STOP_GRACE_S = 10.0
SUPERVISE_INTERVAL_S = 0.2
PR_SET_PDEATHSIG = 1


class LaunchError(RuntimeError):
    """A node executable is missing or exited at start; the message says which and why."""


class NodeDiedError(LaunchError):
    """A node process exited while the graph was in use."""

    def __init__(self, node: str, returncode: int):
        self.node, self.returncode = node, returncode
        super().__init__(f"node {node} exited with {describe_exit(returncode)}; see its output above")


def describe_exit(returncode: Optional[int]) -> str:
    if returncode is None:
        return "no exit code"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


def executable_path(name: str) -> str:
    # The venv's bin directory first (pip entry points), then a ROS install's lib/<package>.
    candidates = [Path(sys.prefix) / "bin" / name, Path(sys.prefix) / "lib" / "eq_negotiator_ros" / name]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise LaunchError(
        f"node executable {name!r} not found; run 'make setup' (pip install -e eq_negotiator_ros)"
    )


def read_vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of a process in MB (Linux /proc), 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _load_prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()


def _stop_with_parent() -> None:
    """Runs in the child between fork and exec: SIGTERM when the parent dies (a killed runner
    must not leave nodes behind). Linux ties this to the thread that forked, so start nodes from a
    thread that lives as long as the graph."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class NodeHealth:
    """What the supervisor knows about one node."""

    name: str
    deaths: list[float] = field(default_factory=list)  # monotonic times of unexpected exits
    restarts: int = 0
    last_exit: Optional[int] = None
    restart_at: Optional[float] = None  # monotonic time of the pending restart
    failed: str = ""  # why the node is down for good ("" = running or restarting)

    @property
    def state(self) -> str:
        if self.failed:
            return "failed"
        if self.restart_at is not None:
            return "restarting"
        return "running"


class NodeGraph:
    """The nodes of graph.NODES as child processes. Use as a context manager."""

    def __init__(
        self,
        arguments: Optional[dict[str, str]] = None,
        overrides: Optional[dict] = None,
        params_file: Optional[Path] = None,
        on_output: Optional[Callable[[str, str], None]] = None,
        nodes: Optional[list[str]] = None,
    ):
        self.arguments = {**graph.defaults(), **(arguments or {})}
        self.params_file = Path(params_file or self.arguments.get("params_file") or default_config_path())
        self.overrides = dict(overrides or {})
        self.on_output = on_output
        self.only = set(nodes) if nodes else None
        self.processes: dict[str, subprocess.Popen] = {}
        self.health: dict[str, NodeHealth] = {}
        self.peak_mb: dict[str, float] = {}
        self.stop_signal = signal.SIGINT
        self._lock = threading.RLock()
        self._stopping = False
        self._tmp = tempfile.TemporaryDirectory(prefix="eq_negotiator_graph_")
        self._threads: list[threading.Thread] = []
        self._supervisor: Optional[threading.Thread] = None
        self._supervisor_stop = threading.Event()

    @property
    def namespace(self) -> str:
        return "/" + self.arguments["namespace"].strip("/")

    def command(self, spec: graph.NodeSpec) -> list[str]:
        overrides = {**graph.parameter_overrides(spec, self.arguments), **self.overrides}
        command = [
            executable_path(spec.executable),
            "--ros-args",
            "-r",
            f"__ns:={self.namespace}",
            "-r",
            f"__node:={spec.name}",
            "--params-file",
            str(self.params_file),
        ]
        if overrides:
            override_file = Path(self._tmp.name) / f"{spec.name}.yaml"
            override_file.write_text(
                yaml.safe_dump({"/**": {"ros__parameters": unflatten_parameters(overrides)}})
            )
            command += ["--params-file", str(override_file)]
        return command

    def start(self) -> "NodeGraph":
        for spec in graph.selected_nodes(self.arguments):
            if self.only is not None and spec.name not in self.only:
                continue
            self.start_node(spec)
        return self

    def start_node(self, spec: graph.NodeSpec) -> None:
        process = subprocess.Popen(
            self.command(spec),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"},
            start_new_session=True,
            preexec_fn=_stop_with_parent,
        )
        with self._lock:
            self.processes[spec.name] = process
            self.health.setdefault(spec.name, NodeHealth(spec.name))
        thread = threading.Thread(target=self._pump, args=(spec.name, process), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.sample_memory()
            if self.on_output:
                self.on_output(name, line.rstrip("\n"))

    def report(self, line: str) -> None:
        """A line from the graph runner itself (node deaths, restarts, stops)."""
        if self.on_output:
            self.on_output("graph", line)
        else:
            print(f"[graph] {line}", file=sys.stderr, flush=True)

    def sample_memory(self) -> None:
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), read_vm_hwm_mb(process.pid))

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.processes.items() if p.poll() is None}

    def dead_nodes(self) -> dict[str, int]:
        """Nodes whose process has exited: name -> exit code."""
        return {name: p.returncode for name, p in list(self.processes.items()) if p.poll() is not None}

    def check_alive(self) -> None:
        for name, code in self.dead_nodes().items():
            raise NodeDiedError(name, code)

    # -- stopping ---------------------------------------------------------------------------

    def _signal_group(self, process: subprocess.Popen, signum: int) -> None:
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_node(self, name: str, timeout_s: float = STOP_GRACE_S) -> None:
        process = self.processes.get(name)
        if process is None:
            return
        self._stop_processes([process], self.stop_signal, timeout_s)

    def _stop_processes(self, processes: list[subprocess.Popen], signum: int, timeout_s: float) -> None:
        """Signal every node's group at once, give them timeout_s to exit, then SIGKILL what is left
        (the node and anything it started)."""
        self.sample_memory()
        for process in processes:
            if process.poll() is None:
                self._signal_group(process, signum)
        deadline = time.monotonic() + timeout_s
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in processes:
            # Also after a clean exit: a player or recorder the node started must not stay behind.
            self._signal_group(process, signal.SIGKILL)
            if process.poll() is None:
                process.wait()

    def kill_node(self, name: str) -> None:
        """SIGKILL one node (fault injection: no chance to clean up)."""
        process = self.processes.get(name)
        if process is not None and process.poll() is None:
            self._signal_group(process, signal.SIGKILL)
            process.wait()

    def restart_node(self, name: str) -> None:
        spec = next(s for s in graph.NODES if s.name == name)
        with self._lock:
            old = self.processes.get(name)
            if old is not None and old.poll() is None:
                self._stop_processes([old], signal.SIGINT, STOP_GRACE_S)
            health = self.health.setdefault(name, NodeHealth(name))
            health.restart_at, health.restarts = None, health.restarts + 1
            self.start_node(spec)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._supervisor_stop.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=5.0)
        self._stop_processes(list(self.processes.values()), self.stop_signal, STOP_GRACE_S)
        self._tmp.cleanup()

    # -- supervision ------------------------------------------------------------------------

    def supervise(self, now: Optional[float] = None) -> Optional[NodeDiedError]:
        """One supervision pass: report each node that died since the last pass, restart those that
        may be restarted once their backoff is over. Returns the error of a node that is down for
        good (not safe to restart, or restarted too often), None while the graph is healthy."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._stopping:
                return None
            for name, process in list(self.processes.items()):
                health = self.health.setdefault(name, NodeHealth(name))
                if health.failed:
                    return NodeDiedError(name, health.last_exit if health.last_exit is not None else 1)
                if process.poll() is None or health.restart_at is not None:
                    continue
                health.last_exit = process.returncode
                health.deaths = [t for t in health.deaths if now - t < graph.RESTART_WINDOW_S] + [now]
                policy = graph.restart_policy(name, self.arguments)
                exit_text = describe_exit(process.returncode)
                if not policy.allowed:
                    health.failed = f"not restarted: {policy.reason}"
                elif len(health.deaths) > graph.MAX_RESTARTS:
                    health.failed = (
                        f"died {len(health.deaths)} times within "
                        f"{graph.RESTART_WINDOW_S:.0f} s; not restarted again "
                        f"(see its output above for the cause)"
                    )
                if health.failed:
                    self.report(f"node {name} exited with {exit_text}; {health.failed}")
                    return NodeDiedError(name, process.returncode)
                delay = min(
                    graph.RESTART_BACKOFF_MAX_S, graph.RESTART_BACKOFF_S * 2 ** (len(health.deaths) - 1)
                )
                health.restart_at = now + delay
                self.report(
                    f"node {name} exited with {exit_text}; restarting it in {delay:.0f} s "
                    f"(safe: {policy.reason})"
                )
            for name, health in self.health.items():
                if health.restart_at is not None and now >= health.restart_at:
                    health.restart_at = None
                    if self.processes[name].poll() is None:  # restarted by hand meanwhile
                        continue
                    health.restarts += 1
                    self.start_node(next(s for s in graph.NODES if s.name == name))
                    self.report(
                        f"node {name} restarted (restart {health.restarts}, pid {self.processes[name].pid})"
                    )
        return None

    def start_supervisor(self, on_failure: Optional[Callable[[NodeDiedError], None]] = None) -> None:
        """Supervise in a background thread until stop() (the runner's main thread is busy, e.g. in
        tests). Restarted nodes are children of that thread, which lives until stop()."""

        def loop() -> None:
            while not self._supervisor_stop.wait(SUPERVISE_INTERVAL_S):
                failure = self.supervise()
                if failure is not None:
                    if on_failure:
                        on_failure(failure)
                    return

        self._supervisor = threading.Thread(target=loop, name="graph_supervisor", daemon=True)
        self._supervisor.start()

    def status(self) -> dict[str, dict]:
        """Per node: state, pid, restarts, last exit (for diagnostics and reports)."""
        with self._lock:
            result = {}
            for name, health in self.health.items():
                process = self.processes.get(name)
                alive = process is not None and process.poll() is None
                result[name] = {
                    "state": health.state if alive or health.state != "running" else "exited",
                    "pid": process.pid if alive else 0,
                    "restarts": health.restarts,
                    "last_exit": describe_exit(health.last_exit) if health.last_exit is not None else "",
                    "detail": health.failed,
                }
            return result

    def wait(self, supervise: bool = True, diagnostics: bool = True) -> int:
        """Run the graph until SIGINT or SIGTERM (returns 0; stop() then forwards that signal to the
        nodes), or until a node is down for good (returns its exit code, 1 when it had none). With
        supervise=False the first node that exits ends the wait."""
        received: list[int] = []

        def on_signal(signum, _frame) -> None:
            received.append(signum)

        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = {}
        if in_main_thread:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, on_signal)
        monitor = _start_monitor(self) if diagnostics else None
        try:
            while not received:
                if supervise:
                    failure = self.supervise()
                else:
                    dead = self.dead_nodes()
                    failure = NodeDiedError(*next(iter(dead.items()))) if dead else None
                if failure is not None:
                    if monitor:
                        monitor.publish()
                    return failure.returncode if failure.returncode not in (0, None) else 1
                if monitor:
                    monitor.tick()
                time.sleep(SUPERVISE_INTERVAL_S)
                self.sample_memory()
            self.stop_signal = received[0]
            self.report(f"{signal.Signals(received[0]).name} received: stopping the nodes")
            return 0
        except KeyboardInterrupt:  # outside the main thread (no handler installed)
            return 0
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if monitor:
                monitor.close()

    def __enter__(self) -> "NodeGraph":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _start_monitor(node_graph: NodeGraph):
    """The graph's health on /diagnostics, when rclpy is there (it is optional for the runner)."""
    try:
        from ..nodes.graph_monitor import GraphMonitor
    except ImportError:
        return None
    try:
        return GraphMonitor(node_graph)
    except Exception as error:  # diagnostics are a report; their failure must not stop the graph
        node_graph.report(f"graph health is not published on /diagnostics: {error}")
        return None
