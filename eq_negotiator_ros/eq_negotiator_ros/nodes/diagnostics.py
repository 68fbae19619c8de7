"""A node's health on /diagnostics (what rqt_robot_monitor shows)."""

from __future__ import annotations

import os
from typing import Any, Mapping

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node


def diagnostics_publisher(node: Node):
    return node.create_publisher(DiagnosticArray, "/diagnostics", 10)


def publish_diagnostics(
    node: Node, publisher, message: str, values: Mapping[str, Any], level: bytes = DiagnosticStatus.OK
) -> None:
    """One DiagnosticStatus for this node on /diagnostics (what rqt_robot_monitor shows); level WARN
    when the node works in a degraded way (DiagnosticStatus.OK / WARN / ERROR)."""
    status = DiagnosticStatus(
        level=level, name=f"eq_negotiator: {node.get_name()}", message=message, hardware_id="eq_negotiator"
    )
    # node and pid tell apart two graphs on one domain and a restarted node from the one it replaced.
    identity = {"node": node.get_fully_qualified_name(), "pid": os.getpid()}
    status.values = [KeyValue(key=key, value=str(value)) for key, value in {**identity, **values}.items()]
    array = DiagnosticArray(status=[status])
    array.header.stamp = node.get_clock().now().to_msg()
    publisher.publish(array)
