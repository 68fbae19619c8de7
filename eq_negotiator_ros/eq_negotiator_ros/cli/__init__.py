"""The `eq-negotiator` command. Each subcommand is a module of this package exposing
`add_parser(subparsers)` and `run(args) -> int`; the module is imported only when its command runs,
so `eq-negotiator analyze` does not pay for loading ROS or the speech models."""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "doctor": ("doctor", "check ROS 2, the interfaces, the models and the run directory"),
    "analyze": ("analyze", "read the emotion, offer and acceptance of JSON-lines texts"),
    "chat": ("chat", "negotiate by typing as the debtor"),
    "demo": ("demo", "a full spoken negotiation through the ROS 2 graph with a simulated debtor"),
    "run": ("run", "start the node graph (what `ros2 launch` starts, without ros2cli)"),
    "bench": ("bench", "agent-to-agent benchmark of creditor policies against debtor personas"),
    "bench-latency": ("bench_latency", "time to first audio and per-stage latency over spoken turns"),
    "bench-barge-in": (
        "bench_barge_in",
        "self-interruptions and stop time of replies played into a simulated room",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eq-negotiator", description="EQ-Negotiator voice agent")
    parser.add_argument("--config", default=None, help="negotiator.yaml to use (default: the package's)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting, e.g. --set llm.model_path=/models/qwen.gguf (repeatable; VALUE is YAML)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = _load(module_name)
        if module is None:
            continue
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.add_parser(sub)
        sub.set_defaults(_module=module)
    return parser


def _load(module_name: str):
    try:
        return importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError as error:
        # A command whose module is not part of this build is left out of the list; an import
        # error inside an existing module is a real bug and propagates.
        if error.name == f"{__name__}.{module_name}":
            return None
        raise


def load_cli_config(args: argparse.Namespace, forced: dict | None = None):
    """The configuration a command runs with: --config file plus --set overrides, then the
    settings the command itself must force (`forced`)."""
    from ..config import load_config

    overrides = parse_overrides(args.overrides)
    overrides.update(forced or {})
    return load_config(args.config, overrides)


def parse_overrides(items) -> dict:
    """`--set KEY=VALUE` items as {dotted key: value}; VALUE is read as YAML (numbers, booleans).

    Raises ConfigError (exit code 2) for an item that is not KEY=VALUE or whose VALUE is not YAML;
    unknown keys and wrong values are named when the config is built from the overrides."""
    import yaml

    from ..config import ConfigError, yaml_error_line

    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"--set expects KEY=VALUE, e.g. offer.max_utterances=20; got {item!r}")
        try:
            overrides[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError as error:
            raise ConfigError(
                f"--set {key}: {value!r} is not a valid YAML value ({yaml_error_line(error)}); "
                f"quote a text value, e.g. --set '{key}=\"...\"'"
            ) from None
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    from ..config import ConfigError

    try:
        return int(args._module.run(args) or 0)
    except ConfigError as error:
        print(f"eq-negotiator: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
