"""The node graph: what it is (description: nodes, launch arguments, parameters, restart rules,
shared by the launch file and `eq-negotiator run`) and how it runs on a machine without ros2cli
(runner: NodeGraph, the nodes as supervised child processes).

`from eq_negotiator_ros import graph` gives the description (pure data, no ROS import), as the
launch file uses it; `graph.runner` starts processes.
"""

from .description import (
    DEFAULT_NAMESPACE,
    LAUNCH_ARGUMENTS,
    MAX_RESTARTS,
    MODEL_NODES,
    NODES,
    RESTART_BACKOFF_MAX_S,
    RESTART_BACKOFF_S,
    RESTART_WINDOW_S,
    TRUE_WORDS,
    LaunchArgument,
    NodeSpec,
    RestartPolicy,
    defaults,
    parameter_overrides,
    parse_bool,
    restart_policy,
    selected_nodes,
    split_paths,
    typed_value,
)

__all__ = [
    "DEFAULT_NAMESPACE",
    "LAUNCH_ARGUMENTS",
    "MAX_RESTARTS",
    "MODEL_NODES",
    "NODES",
    "RESTART_BACKOFF_MAX_S",
    "RESTART_BACKOFF_S",
    "RESTART_WINDOW_S",
    "TRUE_WORDS",
    "LaunchArgument",
    "NodeSpec",
    "RestartPolicy",
    "defaults",
    "parameter_overrides",
    "parse_bool",
    "restart_policy",
    "selected_nodes",
    "split_paths",
    "typed_value",
]
