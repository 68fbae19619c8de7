"""`eq-negotiator chat`: negotiate by typing as the debtor; the agent answers in text (and speech
with --speak), showing the emotion it read, the hidden-state belief and its decision.

It runs the same core as the reasoning and SLM nodes, in this process (no ROS needed).

Debtor lines come from standard input: typed at a terminal (an empty line ends), or piped from a
file (`eq-negotiator chat --json < conversation.txt`; blank lines are skipped, the end of the
input ends). With --json, standard output carries one JSON object per agent turn and nothing
else (the opening reply first, debtor_text ""), so a scripted conversation can be replayed and
judged; see `turn_record`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="", help="scenario id (default: session.default_scenario)")
    parser.add_argument(
        "--policy", default="eq", help="creditor policy (eq, vanilla, wsls, hmm, released, ...)"
    )
    parser.add_argument(
        "--speak", action="store_true", help="also speak each reply (speaker, or WAV files with --out)"
    )
    parser.add_argument("--out", default="", help="directory for the spoken replies as WAV (with --speak)")
    parser.add_argument(
        "--templates", action="store_true", help="reply with the written templates only (no language model)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per turn on standard output (debtor text, reading, decision, reply, "
        "offer, fallback, whether the model's own words survived)",
    )


def turn_record(
    debtor_text: str,
    record: Any,
    directive: Any,
    parts: list,
    first_sentence_s: float | None,
    outcome: str | None,
) -> dict[str, Any]:
    """One agent turn as JSON-ready data. `record` is the session's TurnRecord (None for the opening),
    `parts` the ReplySentences spoken."""
    from ..llm.phrasing import model_words_survived

    spoken = [p for p in parts if p.text]
    reasons = [p.rejection_reason for p in parts if p.rejection_reason]
    data: dict[str, Any] = {
        "turn": int(directive.turn),
        "debtor_text": debtor_text,
        "reading": None,
        "belief": None,
        "decision": {
            "creditor_emotion": directive.creditor_emotion,
            "policy_branch": directive.policy_branch,
            "intent": directive.intent,
            "accepts_debtor_offer": bool(directive.accepts_debtor_offer),
        },
        "offer": directive.offer.to_dict(),
        "reply": " ".join(p.text for p in spoken),
        "sentences": [{"text": p.text, "source": p.source} for p in spoken],
        "from_fallback": any(p.from_fallback for p in parts),
        "model_words_survived": model_words_survived(parts),
        "rejection_reason": reasons[0] if reasons else "",
        "first_sentence_s": None if first_sentence_s is None else round(first_sentence_s, 4),
        "outcome": outcome,
    }
    if record is not None:
        from ..eq.emotions import HIDDEN_STATES

        data["reading"] = {
            "dominant": record.reading.dominant,
            "confidence": round(record.reading.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in record.reading.as_dict().items()},
            "source": record.reading.source,
        }
        data["belief"] = {name: round(p, 4) for name, p in zip(HIDDEN_STATES, record.belief)}
        data["decision"]["explanation"] = record.decision.explanation
        data["debtor_offer"] = record.debtor_offer.to_dict() if record.debtor_offer is not None else None
    return data


def _template_parts(directive, scenario) -> list:
    from ..llm.fallback import fallback_reply
    from ..llm.phrasing import ReplySentence

    sentences = fallback_reply(directive, scenario).sentences
    return [
        ReplySentence(index=i, text=s, final=i == len(sentences) - 1, from_fallback=True, source="template")
        for i, s in enumerate(sentences)
    ]


def run(args: argparse.Namespace) -> int:
    chat = Chat(args)
    interactive = sys.stdin.isatty()
    scenario = chat.scenario
    print(
        f"Scenario {scenario.scenario_id}: balance {scenario.outstanding_balance:,.0f} {scenario.currency}, "
        f"creditor target {scenario.creditor_target_days} days. Type as the debtor; "
        + ("an empty line or Ctrl-D ends." if interactive else "reading debtor lines from standard input."),
        file=chat.info,
        flush=True,
    )
    chat.say(chat.session.open())
    for line in sys.stdin:
        text = line.strip()
        if not text:
            if interactive:
                break
            continue  # a blank line in a script is not the end of the conversation
        if chat.answer(text):
            break
    return 0


class Chat:
    """One typed negotiation: the same core as the reasoning and SLM nodes, in this process."""

    def __init__(self, args: argparse.Namespace):
        import datetime

        from ..eq.detection import make_detector
        from ..eq.policy import make_policy
        from ..eq.session import new_negotiation
        from ..sim.scenarios import find_scenario, load_scenarios
        from . import load_cli_config

        self.args = args
        self.as_json = bool(args.json)
        self.info = sys.stderr if self.as_json else sys.stdout  # with --json, stdout carries JSON only
        config = self.config = load_cli_config(args)
        self.scenario = find_scenario(
            load_scenarios(config.session.scenarios_path), args.scenario or config.session.default_scenario
        )
        self.detector = make_detector(config)
        self.policy = make_policy(args.policy, config.eq)
        self.session = new_negotiation(self.scenario, config, self.policy, today=datetime.date.today())
        self.llama = self.guidance = None
        if not args.templates:
            from ..llm.model import load_llama, load_persona_guidance, resolve_lora_path

            self.llama = load_llama(config.llm)
            self.guidance = load_persona_guidance(config.llm)
            print(f"language model: {resolve_lora_path(config.llm)[1]}", file=self.info, flush=True)
        self.speaker = None
        if args.speak:
            from ..speech.tts import SpeechSynthesizer

            self.speaker = SpeechSynthesizer(config.tts)
        self.history: list[tuple[str, str]] = []

    def answer(self, text: str) -> bool:
        """One debtor line: read it, decide, reply; True when the negotiation has ended."""
        self.history.append(("Debtor", text))
        record = self.session.step(text, self.detector.detect(text))
        if not self.as_json:
            belief = ", ".join(
                f"{name} {p:.2f}" for name, p in zip(("coop", "conf", "dist", "strat"), record.belief)
            )
            print(
                f"  read: {record.reading.dominant} ({record.reading.confidence:.2f}); belief: {belief}; "
                f"policy: {record.decision.branch}",
                flush=True,
            )
        self.say(record.directive, text, record)
        if not self.session.finished:
            return False
        print(f"negotiation ended: {self.session.outcome}", file=self.info, flush=True)
        self.policy.finish(self.session.outcome == "success")
        return True

    def phrase(self, directive) -> tuple[list, float | None]:
        """The reply's sentences and the time to the first one."""
        started = time.perf_counter()
        if self.llama is None:
            return _template_parts(directive, self.scenario), time.perf_counter() - started
        from ..llm.phrasing import phrase_reply

        parts, first_sentence_s = [], None
        for part in phrase_reply(
            directive, self.scenario, self.history[-8:], self.llama, self.config.llm, guidance=self.guidance
        ):
            if part.text and first_sentence_s is None:
                first_sentence_s = time.perf_counter() - started
            parts.append(part)
        return parts, first_sentence_s

    def say(self, directive, debtor_text: str = "", record=None) -> None:
        from pathlib import Path

        parts, first_sentence_s = self.phrase(directive)
        text = " ".join(p.text for p in parts if p.text)
        self.history.append(("Agent", text))
        session = self.session
        if self.as_json:
            print(
                json.dumps(
                    turn_record(
                        debtor_text,
                        record,
                        directive,
                        parts,
                        first_sentence_s,
                        session.outcome if session.finished else None,
                    )
                ),
                flush=True,
            )
        else:
            template = any(p.from_fallback for p in parts)
            print(
                f"agent [{directive.creditor_emotion}, {directive.intent} {directive.offer.days} days]"
                f"{' (template)' if template else ''}: {text}",
                flush=True,
            )
        if self.speaker is not None:
            out_dir = Path(self.args.out).expanduser() if self.args.out else None
            _speak(self.speaker, text, directive.turn, out_dir, self.config, directive.creditor_emotion)


def _speak(speaker, text: str, turn: int, out_dir, config, emotion: str = "") -> None:
    import shutil
    import subprocess

    from ..speech.audio import float_to_int16, write_wav

    audio = speaker.synthesize(text, emotion)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_wav(out_dir / f"reply_{turn:02d}.wav", audio, speaker.sample_rate_hz)
    if config.tts.play_audio and shutil.which("aplay"):
        subprocess.run(
            ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(speaker.sample_rate_hz)],
            input=float_to_int16(audio).tobytes(),
            stderr=subprocess.DEVNULL,
            check=False,
        )
