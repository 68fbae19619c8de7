"""The graph runner's own report on /diagnostics: one status per node process (running,
restarting, failed), its pid, restarts, last exit and lifecycle state, so a node death shows in
rqt_robot_monitor like any other fault; and one line on the runner's output when every model node
has become active (lifecycle GetState), or stops being so. Lives in the runner's process with a
context of its own.
"""

from __future__ import annotations

import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from ..graph import MODEL_NODES
from .readiness import LifecycleStates

PUBLISH_INTERVAL_S = 2.0
LEVELS = {"running": DiagnosticStatus.OK, "restarting": DiagnosticStatus.WARN}


class GraphMonitor:
    def __init__(self, node_graph) -> None:
        self.node_graph = node_graph
        self.context = rclpy.Context()
        # The runner handles SIGINT and SIGTERM itself (it forwards them to the nodes).
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = Node("graph_supervisor", namespace=node_graph.namespace, context=self.context)
        self.publisher = self.node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        managed = [name for name in MODEL_NODES if name in node_graph.processes]
        self.lifecycle = LifecycleStates(self.node, node_graph.namespace, managed)
        self.all_active = False
        self.started = time.monotonic()
        self.last_published = 0.0
        self.last_status: dict = {}

    def tick(self) -> None:
        self.executor.spin_once(timeout_sec=0.0)  # GetState answers
        all_active = self.lifecycle.all_active()
        if all_active != self.all_active:
            self.all_active = all_active
            if all_active:
                self.node_graph.report(
                    f"every model node is active, {time.monotonic() - self.started:.1f} s after the start"
                )
            else:
                waiting = ", ".join(f"{name} {state}" for name, state in self.lifecycle.not_active().items())
                self.node_graph.report(f"not every model node is active: {waiting}")
        status = self.node_graph.status()
        if status != self.last_status or time.monotonic() - self.last_published >= PUBLISH_INTERVAL_S:
            self.publish(status)

    def publish(self, status: dict | None = None) -> None:
        status = self.node_graph.status() if status is None else status
        array = DiagnosticArray()
        array.header.stamp = self.node.get_clock().now().to_msg()
        for name, values in status.items():
            message = values["state"] + (f": {values['detail']}" if values["detail"] else "")
            entry = DiagnosticStatus(
                level=LEVELS.get(values["state"], DiagnosticStatus.ERROR),
                name=f"eq_negotiator: graph/{name}",
                message=message,
                hardware_id="eq_negotiator",
            )
            values = {**values, "lifecycle_state": self.lifecycle.states.get(name, "not managed")}
            entry.values = [KeyValue(key=key, value=str(value)) for key, value in values.items()]
            array.status.append(entry)
        self.publisher.publish(array)
        self.last_status, self.last_published = status, time.monotonic()

    def close(self) -> None:
        try:
            self.executor.shutdown(timeout_sec=1.0)
            self.node.destroy_node()
        finally:
            rclpy.shutdown(context=self.context)
