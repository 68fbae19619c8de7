"""A node's configuration as ROS parameters: it declares the keys of the sections it reads
(parameters.node_sections), with their descriptions, the package's negotiator.yaml giving the
defaults; `--params-file` and `ros2 param set` change them. The typed NegotiatorConfig is built
from those values; the sections the node does not read keep the file's defaults."""

from __future__ import annotations

import array
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from ..config import (
    NegotiatorConfig,
    config_from_parameters,
    default_config_path,
    flatten_parameters,
    read_parameters,
)
from ..parameters import description, node_parameters


def declare_config(node: Node, node_name: str) -> NegotiatorConfig:
    """Declare the parameters of node_name's sections on node; the typed config from their values."""
    flat_defaults = flatten_parameters(read_parameters(default_config_path()))
    own = node_parameters(node_name, flat_defaults)
    for name, default in own.items():
        # dynamic_typing: a params file that writes [4, 3, 2] (integers) where the default has
        # [4.0, 3.0, 2.0] must not be rejected; the typed config validates and converts instead.
        node.declare_parameter(
            name, default, ParameterDescriptor(description=description(name), dynamic_typing=True)
        )
    values = {name: _plain(node.get_parameter(name).value) for name in own}
    return config_from_parameters({**flat_defaults, **values})


def _plain(value: Any) -> Any:
    """Parameter arrays come back as array.array; the config reads lists."""
    return list(value) if isinstance(value, (list, tuple, array.array)) else value
