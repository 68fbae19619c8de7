"""`eq-negotiator bench-latency`: over real spoken turns through the node graph, the delay from the
end of the debtor's voiced speech to the first audio sample of the reply, each stage, and peak memory.

`--turns N` times N turns: a negotiation that ends sooner is followed by another. The first turn
after the graph starts is reported on its own (the one a cold model would slow down), p50/p90 over
the others; the ASR's speculative starts and the share of them thrown away (the debtor went on
talking after a short silence) come from its /diagnostics."""

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
    turns = max(1, args.turns)
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    with tempfile.TemporaryDirectory(prefix="eq_latency_") as tmp:
        try:
            report = run_spoken_negotiation(
                config,
                config_path=args.config,
                overrides=parse_overrides(args.overrides),
                scenario_id=args.scenario,
                max_turns=turns,
                out_dir=Path(tmp),
                log=log,
                scripted_lines=LINES,
                write_files=False,
                until_max_turns=True,
            )
        except DemoError as error:
            print(f"eq-negotiator bench-latency: {error}", file=sys.stderr)
            return 1
    summary = summarise(report)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def stage_figures(turns: list[dict]) -> dict[str, dict[str, float]]:
    figures = {}
    for stage in STAGES:
        values = [t["timings_s"][stage] for t in turns if stage in t["timings_s"]]
        figures[stage] = {
            "p50": round(percentile(values, 50), 3),
            "p90": round(percentile(values, 90), 3),
            "n": len(values),
        }
    return figures


def summarise(report: dict) -> dict:
    """The figures of a run: the first turn apart, p50/p90 of every stage over the others."""
    turns = report["turns"]
    return {
        "turns_timed": len(turns),
        "negotiations": report.get("negotiations", 1),
        "first_turn": {stage: turns[0]["timings_s"].get(stage) for stage in STAGES} if turns else {},
        "first_turn_reply_from_fallback": bool(turns and turns[0]["reply_from_fallback"]),
        "later_turns": stage_figures(turns[1:]),
        "all_turns": stage_figures(turns),
        "asr_speculation": report.get("asr_speculation", {}),
        "peak_memory_mb": report["peak_memory_mb"],
        "fallback_replies": sum(1 for t in turns if t["reply_from_fallback"]),
        # Turns whose answer began before the debtor had finished (their answer stages are not timed).
        "answered_before_the_end": sum(1 for t in turns if not t.get("answered_after_speech", True)),
    }


def format_summary(summary: dict) -> str:
    first, later = summary["first_turn"], summary["later_turns"]
    lines = [
        f"\n{summary['turns_timed']} spoken turns in {summary['negotiations']} negotiation(s); "
        f"{summary['fallback_replies']} replies from the written template; "
        f"{summary['answered_before_the_end']} answered before the debtor had finished",
        f"{'stage':<24}{'first turn':>12}{'p50 (s)':>10}{'p90 (s)':>10}{'n':>5}",
    ]
    for stage in STAGES:
        value = first.get(stage)
        first_text = f"{value:.3f}" if value is not None else "-"
        figures = later[stage]
        lines.append(
            f"{stage.removesuffix('_s'):<24}{first_text:>12}{figures['p50']:>10.3f}{figures['p90']:>10.3f}"
            f"{figures['n']:>5}"
        )
    speculation = summary["asr_speculation"]
    if speculation:
        lines.append(
            f"speculative recognitions: {speculation['starts']} started, {speculation['discards']} thrown "
            f"away ({100 * speculation['discarded_share']:.0f}%); {speculation['continuations']} turns joined"
        )
    memory = summary["peak_memory_mb"]
    lines.append(
        f"peak memory of the graph: {memory['graph_total']:.0f} MB ("
        + ", ".join(f"{k} {v:.0f}" for k, v in memory.items() if k != "graph_total")
        + ")"
    )
    return "\n".join(lines)
