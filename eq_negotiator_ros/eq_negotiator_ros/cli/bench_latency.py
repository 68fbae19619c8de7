"""`eq-negotiator bench-latency`: over real spoken turns through the node graph, the delay from the
end of the debtor's speech to the first audio sample of the reply, each stage, and peak memory."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

# Debtor lines of everyday length (2-4 s of speech), with offers, refusals and feelings.
LINES = (
    "I lost my job last month and I can't pay all of it right now.",
    "Could we do ninety days instead? That would really help me.",
    "No, thirty days is impossible for me, I need more time.",
    "Fine, I could pay two hundred now and the rest in sixty days.",
    "Honestly I am worried about what happens if I miss a payment.",
    "Okay, I think that works for me. Let's agree on that.",
)
STAGES = (
    "vad_end_of_speech_s",
    "asr_s",
    "eq_reasoning_s",
    "slm_first_sentence_s",
    "tts_first_chunk_s",
    "time_to_first_audio_s",
)


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--turns", type=int, default=5, help="spoken debtor turns to time")
    parser.add_argument("--scenario", default="", help="scenario id (default: session.default_scenario)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def run(args: argparse.Namespace) -> int:
    from ..demo.session import DemoError, run_spoken_negotiation
    from . import load_cli_config, parse_overrides

    config = load_cli_config(args)
    lines = [LINES[i % len(LINES)] for i in range(max(1, args.turns))]
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    with tempfile.TemporaryDirectory(prefix="eq_latency_") as tmp:
        try:
            report = run_spoken_negotiation(
                config,
                config_path=args.config,
                overrides=parse_overrides(args.overrides),
                scenario_id=args.scenario,
                max_turns=len(lines),
                out_dir=Path(tmp),
                log=log,
                scripted_lines=lines,
                write_files=False,
            )
        except DemoError as error:
            print(f"eq-negotiator bench-latency: {error}", file=sys.stderr)
            return 1
    per_stage = {
        stage: [t["timings_s"][stage] for t in report["turns"] if stage in t["timings_s"]] for stage in STAGES
    }
    summary = {
        "turns_timed": len(report["turns"]),
        "stages": {
            stage: {"p50": round(percentile(v, 50), 3), "p90": round(percentile(v, 90), 3), "n": len(v)}
            for stage, v in per_stage.items()
        },
        "peak_memory_mb": report["peak_memory_mb"],
        "fallback_replies": sum(1 for t in report["turns"] if t["reply_from_fallback"]),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"\n{summary['turns_timed']} spoken turns")
        print(f"{'stage':<24}{'p50 (s)':>10}{'p90 (s)':>10}")
        for stage, figures in summary["stages"].items():
            print(f"{stage.removesuffix('_s'):<24}{figures['p50']:>10.3f}{figures['p90']:>10.3f}")
        print(
            f"peak memory of the graph: {summary['peak_memory_mb']['graph_total']:.0f} MB ("
            + ", ".join(f"{k} {v:.0f}" for k, v in summary["peak_memory_mb"].items() if k != "graph_total")
            + ")"
        )
    return 0
