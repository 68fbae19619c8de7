"""`eq-negotiator run`: start the node graph on this machine, as `ros2 launch eq_negotiator_ros
negotiator.launch.py` does on a ROS install (same nodes, same arguments, same parameters)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(parser: argparse.ArgumentParser) -> None:
    from .. import graph

    for argument in graph.LAUNCH_ARGUMENTS:
        parser.add_argument(
            f"--{argument.name.replace('_', '-')}",
            dest=argument.name,
            default=argument.default,
            help=f"{argument.description} (default: {argument.default or 'empty'})",
        )


def launch_plan(args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    """The launch arguments and parameter overrides of the command line, checked before any node
    starts: the config with its --set overrides must load (ConfigError otherwise) and every WAV file
    must exist. `--set use_mic=...` and `--set wav_paths=[...]` choose the nodes as --use-mic and
    --wav-paths do. WAV paths are made absolute, so that the nodes find them wherever they run."""
    from .. import graph
    from ..config import ConfigError, load_config
    from . import parse_overrides

    arguments = {a.name: getattr(args, a.name) for a in graph.LAUNCH_ARGUMENTS}
    if args.config and not arguments["params_file"]:
        arguments["params_file"] = args.config
    overrides = parse_overrides(args.overrides)
    load_config(arguments["params_file"] or None, overrides)
    if "use_mic" in overrides:
        arguments["use_mic"] = str(overrides.pop("use_mic")).lower()
    if "wav_paths" in overrides:
        named = overrides.pop("wav_paths")
        named = named if isinstance(named, list) else [named]
        arguments["wav_paths"] = ",".join(str(p) for p in named if p)
    wav_paths = [Path(p).expanduser().resolve() for p in graph.split_paths(arguments["wav_paths"])]
    missing = [str(p) for p in wav_paths if not p.is_file()]
    if missing:
        raise ConfigError(f"wav_paths: no such file: {', '.join(missing)}; pass existing WAV files")
    arguments["wav_paths"] = ",".join(str(p) for p in wav_paths)
    return arguments, overrides


def run(args: argparse.Namespace) -> int:
    from ..graph.runner import LaunchError, NodeGraph

    arguments, overrides = launch_plan(args)
    node_graph = NodeGraph(
        arguments, overrides=overrides, on_output=lambda name, line: print(f"[{name}] {line}", flush=True)
    )
    try:
        node_graph.start()
        print(
            f"started {', '.join(node_graph.processes)} in namespace {node_graph.namespace}; Ctrl-C stops",
            flush=True,
        )
        return node_graph.wait()
    except LaunchError as error:
        print(f"eq-negotiator run: {error}", file=sys.stderr)
        return 1
    finally:
        node_graph.stop()
