"""`eq-negotiator chat`: negotiate by typing as the debtor; the agent answers in text (and speech
with --speak), showing the emotion it read, the hidden-state belief and its decision.

It runs the same core as the reasoning and SLM nodes, in this process (no ROS needed)."""

from __future__ import annotations

import argparse
import sys


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="", help="scenario id (default: session.default_scenario)")
    parser.add_argument("--policy", default="eq", help="creditor policy (eq, vanilla, wsls, hmm, released, ...)")
    parser.add_argument("--speak", action="store_true", help="also speak each reply (speaker, or WAV files with --out)")
    parser.add_argument("--out", default="", help="directory for the spoken replies as WAV (with --speak)")
    parser.add_argument("--templates", action="store_true", help="reply with the written templates only (no language model)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import load_cli_config
    from ..eq.detection import make_detector
    from ..eq.policy import make_policy
    from ..eq.session import NegotiationSession
    from ..eq.tracker import HiddenStateTracker
    from ..llm.fallback import fallback_reply
    from ..sim.scenarios import find_scenario, load_scenarios

    config = load_cli_config(args)
    scenario = find_scenario(load_scenarios(config.session.scenarios_path), args.scenario or config.session.default_scenario)
    detector = make_detector(config)
    policy = make_policy(args.policy, config.eq)
    tracker = HiddenStateTracker.from_config(config.eq, getattr(policy, "model", None))
    import datetime

    session = NegotiationSession(scenario, config, policy, tracker, today=datetime.date.today())
    llama = None
    if not args.templates:
        from ..llm.model import load_llama

        llama = load_llama(config.llm)
    speaker = None
    if args.speak:
        from ..speech.tts import SpeechSynthesizer

        speaker = SpeechSynthesizer(config.tts)
    history: list[tuple[str, str]] = []

    def say(directive) -> None:
        if llama is None:
            reply = fallback_reply(directive, scenario)
        else:
            from ..llm.phrasing import phrase_reply_text

            reply = phrase_reply_text(directive, scenario, history[-8:], llama, config.llm)
        text, template = reply.text, reply.from_fallback or llama is None
        history.append(("Agent", text))
        print(f"agent [{directive.creditor_emotion}, {directive.intent} {directive.offer.days} days]"
              f"{' (template)' if template else ''}: {text}", flush=True)
        if speaker is not None:
            _speak(speaker, text, directive.turn, Path(args.out).expanduser() if args.out else None, config)

    print(f"Scenario {scenario.scenario_id}: balance {scenario.outstanding_balance:,.0f} {scenario.currency}, "
          f"creditor target {scenario.creditor_target_days} days. Type as the debtor; an empty line or Ctrl-D ends.")
    say(session.open())
    for line in sys.stdin:
        text = line.strip()
        if not text:
            break
        history.append(("Debtor", text))
        record = session.step(text, detector.detect(text))
        belief = ", ".join(f"{name} {p:.2f}" for name, p in zip(("coop", "conf", "dist", "strat"), record.belief))
        print(f"  read: {record.reading.dominant} ({record.reading.confidence:.2f}); belief: {belief}; "
              f"policy: {record.decision.branch}", flush=True)
        say(record.directive)
        if session.finished:
            print(f"negotiation ended: {session.outcome}")
            policy.finish(session.outcome == "success")
            break
    return 0


def _speak(speaker, text: str, turn: int, out_dir, config) -> None:
    import shutil
    import subprocess

    from ..speech.audio import float_to_int16, write_wav

    audio = speaker.synthesize(text)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_wav(out_dir / f"reply_{turn:02d}.wav", audio, speaker.sample_rate_hz)
    if config.tts.play_audio and shutil.which("aplay"):
        subprocess.run(["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(speaker.sample_rate_hz)],
                       input=float_to_int16(audio).tobytes(), stderr=subprocess.DEVNULL, check=False)
