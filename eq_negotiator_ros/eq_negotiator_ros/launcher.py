"""Starts the node graph as separate processes (real DDS between them), as `ros2 launch` would:
used by `eq-negotiator run`, `demo`, `bench-latency` and the integration tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import yaml

from . import graph
from .config import default_config_path, unflatten_parameters


class LaunchError(RuntimeError):
    """A node executable is missing or exited at start; the message says which and why."""


def executable_path(name: str) -> str:
    # The venv's bin directory first (pip entry points), then a ROS install's lib/<package>.
    candidates = [Path(sys.prefix) / "bin" / name, Path(sys.prefix) / "lib" / "eq_negotiator_ros" / name]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise LaunchError(f"node executable {name!r} not found; run 'make setup' (pip install -e eq_negotiator_ros)")


def read_vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of a process in MB (Linux /proc), 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


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
        self.peak_mb: dict[str, float] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="eq_negotiator_graph_")
        self._threads: list[threading.Thread] = []

    @property
    def namespace(self) -> str:
        return "/" + self.arguments["namespace"].strip("/")

    def command(self, spec: graph.NodeSpec) -> list[str]:
        overrides = {**graph.parameter_overrides(spec, self.arguments), **self.overrides}
        command = [executable_path(spec.executable), "--ros-args", "-r", f"__ns:={self.namespace}",
                   "-r", f"__node:={spec.name}", "--params-file", str(self.params_file)]
        if overrides:
            override_file = Path(self._tmp.name) / f"{spec.name}.yaml"
            override_file.write_text(yaml.safe_dump({"/**": {"ros__parameters": unflatten_parameters(overrides)}}))
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
            self.command(spec), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"},
        )
        self.processes[spec.name] = process
        thread = threading.Thread(target=self._pump, args=(spec.name, process), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.sample_memory()
            if self.on_output:
                self.on_output(name, line.rstrip("\n"))

    def sample_memory(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), read_vm_hwm_mb(process.pid))

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise LaunchError(f"node {name} exited with code {process.returncode}; see its output above")

    def stop_node(self, name: str, timeout_s: float = 10.0) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        self.sample_memory()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill_node(self, name: str) -> None:
        process = self.processes.get(name)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart_node(self, name: str) -> None:
        spec = next(s for s in graph.NODES if s.name == name)
        self.start_node(spec)

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_node(name)
        self._tmp.cleanup()

    def wait(self) -> int:
        """Block until a node exits (or Ctrl-C); returns the first non-zero exit code."""
        try:
            while all(p.poll() is None for p in self.processes.values()):
                time.sleep(0.5)
                self.sample_memory()
        except KeyboardInterrupt:
            pass
        codes = [p.returncode for p in self.processes.values() if p.poll() is not None]
        return next((c for c in codes if c not in (0, None)), 0)

    def __enter__(self) -> "NodeGraph":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
