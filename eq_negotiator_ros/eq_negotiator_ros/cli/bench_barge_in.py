"""`eq-negotiator bench-barge-in`: the robot's replies played through a simulated room into its
own microphone, through the real ASR and TTS nodes: how often it interrupts itself on its own
voice, and how fast it stops when a person talks over it (demo/barge_in.py)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from functools import lru_cache

NAMESPACE = "/eq_negotiator_barge_in_bench"
READY_TIMEOUT_S = 300.0
ECHO_KEYS = (
    "echo_delay_ms",
    "echo_residual_db",
    "near_end_blocks",
    "microphone_gaps",
    "echo_filter_resets",
    "barge_ins",
)


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replies", type=int, default=20, help="replies nobody talks over")
    parser.add_argument("--interruptions", type=int, default=20, help="replies a person talks over")
    parser.add_argument("--seed", type=int, default=0, help="when the person starts talking")
    parser.add_argument("--echo-delay-ms", type=float, default=60.0, help="loudspeaker to microphone delay")
    parser.add_argument("--echo-gain-db", type=float, default=-6.0, help="level of the direct echo")
    parser.add_argument("--reverb-time-s", type=float, default=0.3, help="RT60 of the room")
    parser.add_argument("--noise-dbfs", type=float, default=-55.0, help="the room's noise level")
    parser.add_argument(
        "--person-gain-db", type=float, default=-6.0, help="the person's voice at the microphone"
    )
    parser.add_argument("--node-log", default="", help="write the nodes' output to this file")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")


def person_voice(gain_db: float):
    """What the person says, as 16 kHz audio: Piper's voice, lower and slower than the robot's."""
    from ..config import TtsConfig
    from ..speech.audio import resample
    from ..speech.tts import SpeechSynthesizer

    voice = SpeechSynthesizer(
        TtsConfig(noise_scale=0.5, noise_w=0.6, length_scale=1.1, pitch_shift_semitones=-4.0)
    )
    gain = 10.0 ** (gain_db / 20.0)

    @lru_cache(maxsize=None)
    def speak(text: str):
        return resample(voice.synthesize(text), voice.sample_rate_hz, 16000) * gain

    return speak


def node_output(path: str):
    """The nodes' lines: kept in a file when asked (a trial to look into), else dropped."""
    if not path:
        return lambda name, line: None
    target = open(path, "a", buffering=1)
    return lambda name, line: target.write(f"{time.time():.3f} [{name}] {line}\n")


def run(args: argparse.Namespace) -> int:
    from ..demo.barge_in import summarise
    from ..graph.runner import LaunchError
    from ..speech.room import RoomSettings
    from . import load_cli_config

    config = load_cli_config(args)
    room = RoomSettings(
        echo_delay_ms=args.echo_delay_ms,
        echo_gain_db=args.echo_gain_db,
        reverb_time_s=args.reverb_time_s,
        noise_dbfs=args.noise_dbfs,
        seed=args.seed,
    )
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    try:
        results, asr_diagnostics = trials_in_room(args, config, room, log)
    except (LaunchError, TimeoutError) as error:
        print(f"eq-negotiator bench-barge-in: {error}", file=sys.stderr)
        return 1
    echo = {key: asr_diagnostics.get(key, "") for key in ECHO_KEYS}
    summary = {"room": room.__dict__, "chunk_ms": config.audio.chunk_ms, **summarise(results), "echo": echo}
    if args.json:
        print(json.dumps({**summary, "trials": [r.to_dict() for r in results]}, indent=2))
    else:
        print_summary(summary, room, config.audio.chunk_ms)
    return 0


def trials_in_room(args: argparse.Namespace, config, room, log):
    """Start the ASR and TTS nodes, play the trials through the room; (results, the ASR node's
    last diagnostics values)."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from ..demo.barge_in import RoomNode, run_barge_in_trials
    from ..graph.runner import NodeGraph
    from . import parse_overrides

    speak = person_voice(args.person_gain_db)
    with tempfile.TemporaryDirectory(prefix="eq_barge_in_") as tmp:
        overrides = {
            **parse_overrides(args.overrides),
            "asr.barge_in": True,
            "tts.play_audio": False,
            "tts.record": False,
            "run_dir": tmp,
        }
        graph = NodeGraph(
            {"namespace": NAMESPACE, "use_mic": "false", "barge_in": "true"},
            overrides=overrides,
            params_file=args.config,
            nodes=["asr_node", "tts_node"],
            on_output=node_output(args.node_log),
        )
        context = rclpy.Context()
        rclpy.init(context=context)
        node = RoomNode(NAMESPACE, room, config.audio.chunk_ms, config.audio.sample_rate_hz, context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        try:
            graph.start()
            threading.Thread(target=executor.spin, daemon=True).start()
            log(f"waiting for the ASR and TTS nodes (room: {room})")
            node.wait_for_graph(READY_TIMEOUT_S, graph.check_alive)
            node.start()
            results = run_barge_in_trials(node, speak, args.replies, args.interruptions, args.seed, log)
            return results, dict(node.asr_diagnostics)
        finally:
            node.stop.set()
            executor.shutdown(timeout_sec=1.0)
            node.destroy_node()
            rclpy.shutdown(context=context)
            graph.stop()


def print_summary(summary: dict, room, chunk_ms: int) -> None:
    print(f"room: {room}; microphone chunks of {chunk_ms} ms")
    print("echo filter (asr_node diagnostics): " + ", ".join(f"{k} {v}" for k, v in summary["echo"].items()))
    print(
        f"self-interruptions: {summary['self_interruptions']} of "
        f"{summary['replies_nobody_talked_over']} replies nobody talked over"
    )
    print(
        f"interruptions: {summary['interruptions']}; robot stopped within 0.3 s in "
        f"{summary['share_stopped_within']:.0%}; stop time p50 {summary['stop_s_p50']:.3f} s, "
        f"p90 {summary['stop_s_p90']:.3f} s; the person's words heard in {summary['interruptions_heard']}"
    )
