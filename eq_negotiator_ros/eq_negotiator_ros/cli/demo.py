"""`eq-negotiator demo`: a whole spoken negotiation through the real ROS 2 graph and the real models.

The nodes run as separate processes (as `ros2 launch` starts them); a simulated debtor speaks:
its lines are synthesised with Piper and published on audio/in in real time, so each turn crosses
ASR -> EQ reasoning -> SLM -> TTS. Each turn is printed as it happens; the run directory gets
conversation.wav, transcript.json and emotions.png. The graph runs in a namespace of its own, so
demos on one ROS domain do not disturb each other. A node that dies ends the demo with exit code 1
and a transcript of the turns finished before it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="", help="scenario id (default: session.default_scenario)")
    parser.add_argument(
        "--persona",
        default="vanilla",
        help="debtor persona: vanilla, angry, sad, fear, disgust, "
        "threatening, cheating, victim, stonewalling",
    )
    parser.add_argument(
        "--max-turns", type=int, default=6, help="debtor turns at most (the 30-utterance limit also applies)"
    )
    parser.add_argument("--out", default="", help="run directory (default: <run_dir>/demo-<time>)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated debtor")
    parser.add_argument(
        "--json", action="store_true", help="print a final JSON report on stdout (progress goes to stderr)"
    )
    parser.add_argument("--show-logs", action="store_true", help="print the nodes' own log lines")


def run(args: argparse.Namespace) -> int:
    from ..demo.session import DemoError, run_spoken_negotiation
    from . import load_cli_config, parse_overrides

    config = load_cli_config(args)
    out_dir = (
        Path(args.out).expanduser() if args.out else config.run_dir / time.strftime("demo-%Y%m%d-%H%M%S")
    )
    stream = sys.stderr if args.json else sys.stdout

    def on_sigterm(_signum, _frame) -> None:
        # As Ctrl-C: the run writes its transcript and stops its nodes before the process ends.
        raise SystemExit(128 + signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        report = run_spoken_negotiation(
            config,
            config_path=args.config,
            overrides=parse_overrides(args.overrides),
            scenario_id=args.scenario,
            persona=args.persona,
            max_turns=args.max_turns,
            seed=args.seed,
            out_dir=out_dir,
            log=lambda line: print(line, file=stream, flush=True),
            show_node_logs=args.show_logs,
        )
    except DemoError as error:
        # A node died, the graph did not start, a reply never came: exit non-zero, and say where
        # the transcript of what did happen is.
        print(f"eq-negotiator demo: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"\noutcome: {report['outcome']['result']} after {report['outcome']['debtor_turns']} debtor "
            f"turns; "
            f"files in {out_dir}"
        )
    return 0
