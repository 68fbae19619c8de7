"""`eq-negotiator run`: start the node graph on this machine, as `ros2 launch eq_negotiator_ros
negotiator.launch.py` does on a ROS install (same nodes, same arguments, same parameters)."""

from __future__ import annotations

import argparse


def add_parser(parser: argparse.ArgumentParser) -> None:
    from .. import graph

    for argument in graph.LAUNCH_ARGUMENTS:
        parser.add_argument(f"--{argument.name.replace('_', '-')}", dest=argument.name, default=argument.default,
                            help=f"{argument.description} (default: {argument.default or 'empty'})")


def run(args: argparse.Namespace) -> int:
    from . import parse_overrides
    from .. import graph
    from ..launcher import LaunchError, NodeGraph

    arguments = {a.name: getattr(args, a.name) for a in graph.LAUNCH_ARGUMENTS}
    if args.config and not arguments["params_file"]:
        arguments["params_file"] = args.config
    overrides = parse_overrides(args.overrides)
    node_graph = NodeGraph(arguments, overrides=overrides, on_output=lambda name, line: print(f"[{name}] {line}", flush=True))
    try:
        node_graph.start()
        print(f"started {', '.join(node_graph.processes)} in namespace {node_graph.namespace}; Ctrl-C stops", flush=True)
        return node_graph.wait()
    except LaunchError as error:
        print(f"eq-negotiator run: {error}")
        return 1
    finally:
        node_graph.stop()
