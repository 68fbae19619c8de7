"""A spoken negotiation through the real node graph with a simulated debtor who speaks: the engine
of `eq-negotiator demo`, `eq-negotiator bench-latency` and the end-to-end tests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from .config import NegotiatorConfig, TtsConfig
from .eq.records import Offer

# The debtor speaks a little slower than the agent, so the two voices are easy to tell apart.
DEBTOR_LENGTH_SCALE = 1.15
GRAPH_READY_TIMEOUT_S = 180.0
REPLY_TIMEOUT_S = 90.0
FINISHED_PHASES = ("agreed", "failed", "aborted")


class DemoError(RuntimeError):
    """The demo could not run; the message says what failed and what to do."""


def run_spoken_negotiation(
    config: NegotiatorConfig,
    *,
    config_path: Optional[str],
    overrides: Optional[dict] = None,
    scenario_id: str = "",
    persona: str = "vanilla",
    max_turns: int = 6,
    seed: int = 1,
    out_dir: Path,
    log: Callable[[str], None] = print,
    show_node_logs: bool = False,
    scripted_lines: Optional[Sequence[str]] = None,
    restart_reasoning_after_turn: Optional[int] = None,
    write_files: bool = True,
) -> dict:
    """Run the graph, negotiate up to max_turns debtor turns, write the run files, return the report.

    scripted_lines replaces the debtor simulator with fixed lines (tests, latency runs);
    restart_reasoning_after_turn kills the reasoning node after that turn and starts it again
    (the resume check)."""
    import rclpy

    from .launcher import LaunchError, NodeGraph
    from .nodes.voice_driver import VoiceDriver
    from .sim.debtor import DebtorSimulator, load_personas
    from .sim.scenarios import find_scenario, load_scenarios
    from .speech.audio import resample
    from .speech.tts import SpeechSynthesizer

    out_dir.mkdir(parents=True, exist_ok=True)
    scenario_id = scenario_id or config.session.default_scenario
    try:
        scenario = find_scenario(load_scenarios(config.session.scenarios_path), scenario_id)
    except (KeyError, ValueError) as error:
        raise DemoError(str(error)) from None
    debtor = None
    if scripted_lines is None:
        personas = load_personas()
        if persona not in personas:
            raise DemoError(f"unknown persona {persona!r}; choose one of {', '.join(sorted(personas))}")
        debtor = DebtorSimulator(personas[persona], config.eq.model)
        debtor.reset(scenario, seed)

    node_overrides = {
        # A fresh session store per run: the demo must not resume a negotiation left by another run.
        "session.store_path": str(out_dir / "sessions.sqlite"),
        "run_dir": str(out_dir),
        **(overrides or {}),
    }
    node_logs: list[str] = []

    def on_output(name: str, line: str) -> None:
        node_logs.append(f"[{name}] {line}")
        if show_node_logs:
            log(f"  [{name}] {line}")

    arguments = {"use_mic": "false", "params_file": config_path or ""}
    node_graph = NodeGraph(arguments, overrides=node_overrides, on_output=on_output)
    debtor_voice = SpeechSynthesizer(TtsConfig(
        voice_path=config.tts.voice_path, voice_config_path=config.tts.voice_config_path,
        length_scale=config.tts.length_scale * DEBTOR_LENGTH_SCALE, play_audio=False, record=False))
    context = rclpy.Context()
    rclpy.init(context=context)
    driver = None
    timeline: list[tuple[str, np.ndarray]] = []  # (speaker, 16 kHz samples) in speaking order
    turns_report: list[dict] = []
    rate = config.audio.sample_rate_hz
    started = time.perf_counter()
    try:
        node_graph.start()
        driver = VoiceDriver(node_graph.namespace, chunk_ms=config.audio.chunk_ms, sample_rate_hz=rate, context=context)
        log(f"starting the graph ({', '.join(node_graph.processes)}) and loading the models ...")
        try:
            driver.wait_for_graph(GRAPH_READY_TIMEOUT_S, alive=node_graph.check_alive)
        except (TimeoutError, LaunchError) as error:
            raise DemoError(f"{error}\n" + "\n".join(node_logs[-20:])) from None
        log(f"graph ready in {time.perf_counter() - started:.1f} s; scenario {scenario.scenario_id}: creditor wants "
            f"{scenario.creditor_target_days} days, debtor {scenario.debtor_target_days} days, "
            f"balance {scenario.outstanding_balance:,.0f} {scenario.currency}; persona {persona if debtor else 'scripted'}")
        response = driver.start_session(scenario.scenario_id)
        if not response.success:
            raise DemoError(f"start_session failed: {response.message}")
        opening = driver.observation(0)
        _wait_reply(driver, opening, node_graph)
        _append_creditor_audio(timeline, opening, rate, resample)
        log(f"\nAGENT  [{_emotion(opening)}] {opening.reply_text}")

        for turn in range(1, max_turns + 1):
            previous = driver.observation(turn - 1)
            if scripted_lines is not None:
                if turn > len(scripted_lines):
                    break
                text = scripted_lines[turn - 1]
                truth = {}
            else:
                directive = previous.directive
                offer = Offer(days=int(directive.offer_days), upfront_amount=float(directive.upfront_amount)) if directive else None
                debtor_turn = debtor.respond(directive.creditor_emotion if directive else "neutral", offer)
                text = debtor_turn.text
                truth = {"debtor_true_emotion": debtor_turn.true_emotion, "debtor_intent": debtor_turn.intent,
                         "debtor_tactics": list(debtor_turn.tactics)}
            voice = debtor_voice.synthesize(text)
            samples = resample(voice, debtor_voice.sample_rate_hz, rate) if voice.size else voice
            timeline.append(("debtor", samples))
            observation = driver.speak(turn, text, samples)
            heard = driver.wait_for(lambda: observation.asr is not None, 15.0)
            if not heard:
                log(f"DEBTOR {text}\n       (the ASR heard no speech; the turn is skipped)")
                continue
            _wait_reply(driver, observation, node_graph)
            _append_creditor_audio(timeline, observation, rate, resample)
            entry = _turn_entry(observation, truth)
            state = driver.state
            entry["debtor_offer_days"] = int(state.debtor_offer_days) if state and state.debtor_offer_days else None
            turns_report.append(entry)
            log(_format_turn(entry))
            if restart_reasoning_after_turn == turn:
                log("  (killing eq_reasoning_node and starting it again: the session must resume)")
                node_graph.kill_node("eq_reasoning_node")
                node_graph.restart_node("eq_reasoning_node")
                driver.wait_for_graph(GRAPH_READY_TIMEOUT_S, alive=node_graph.check_alive)
            if driver.state is not None and driver.state.phase in FINISHED_PHASES:
                break
        node_graph.sample_memory()
        state = driver.state
        outcome = {
            "result": {"agreed": "success", "failed": "failure"}.get(state.phase, "unfinished") if state else "unfinished",
            "phase": state.phase if state else "",
            "session_id": state.session_id if state else "",
            "debtor_turns": len(turns_report),
            "utterances": int(state.utterances) if state else 0,
            "agreed_days": int(state.agreed_days) if state else 0,
            "creditor_offer_days": int(state.creditor_offer_days) if state else 0,
            "debtor_offer_days": int(state.debtor_offer_days) if state else 0,
            "creditor_target_days": scenario.creditor_target_days,
        }
        report = {
            "scenario": scenario.to_dict(), "persona": persona if debtor else "scripted", "seed": seed,
            "opening": {"reply_text": opening.reply_text, "creditor_emotion": _emotion(opening),
                        "offer_days": int(opening.directive.offer_days) if opening.directive else None},
            "turns": turns_report, "outcome": outcome,
            "peak_memory_mb": {**{k: round(v, 1) for k, v in node_graph.peak_mb.items()},
                               "graph_total": round(sum(node_graph.peak_mb.values()), 1)},
            "wall_time_s": round(time.perf_counter() - started, 1),
        }
        if write_files:
            report["files"] = _write_run_files(out_dir, report, timeline, rate)
        return report
    finally:
        if driver is not None:
            driver.close()
            driver.destroy_node()
        node_graph.stop()
        rclpy.shutdown(context=context)


def _wait_reply(driver, observation, node_graph) -> None:
    done = driver.wait_for(lambda: (observation.audio_done_t > 0 and not driver.robot_speaking) or _dead(node_graph),
                           REPLY_TIMEOUT_S)
    node_graph.check_alive()
    if not done:
        raise DemoError(f"no complete reply to turn {observation.turn} within {REPLY_TIMEOUT_S:.0f} s")


def _dead(node_graph) -> bool:
    return any(p.poll() is not None for p in node_graph.processes.values())


def _append_creditor_audio(timeline, observation, rate: int, resample) -> None:
    if observation.creditor_audio:
        audio = np.concatenate(observation.creditor_audio)
        timeline.append(("agent", resample(audio, observation.creditor_rate_hz, rate)))


def _emotion(observation) -> str:
    return observation.directive.creditor_emotion if observation.directive else ""


def _turn_entry(observation, truth: dict) -> dict:
    emotion, directive = observation.emotion, observation.directive
    entry = {
        "turn": observation.turn,
        "debtor_text": observation.debtor_text,
        "asr_text": observation.asr.text if observation.asr else "",
        "emotion": emotion.dominant_emotion if emotion else None,
        "emotion_probs": dict(zip(emotion.emotion_labels, map(float, emotion.emotion_probs))) if emotion else {},
        "belief": dict(zip(emotion.hidden_state_labels, map(float, emotion.hidden_state_belief))) if emotion else {},
        "creditor_emotion": directive.creditor_emotion if directive else None,
        "policy_branch": directive.policy_branch if directive else None,
        "intent": directive.intent if directive else None,
        "offer_days": int(directive.offer_days) if directive else None,
        "reply_text": observation.reply_text,
        "reply_from_fallback": observation.reply_from_fallback,
        "timings_s": observation.stage_times_s(),
        **truth,
    }
    return entry


def _format_turn(entry: dict) -> str:
    belief = ", ".join(f"{k[:5]} {v:.2f}" for k, v in entry["belief"].items())
    timings = ", ".join(f"{k.removesuffix('_s')} {v:.2f}s" for k, v in entry["timings_s"].items())
    probability = entry["emotion_probs"].get(entry["emotion"], 0.0) if entry["emotion"] else 0.0
    return (
        f"\n--- turn {entry['turn']} ---\n"
        f"DEBTOR said  {entry['debtor_text']}\n"
        f"ASR heard    {entry['asr_text']}\n"
        f"emotion      {entry['emotion']} ({probability:.2f}); belief: {belief}\n"
        f"decision     {entry['creditor_emotion']} via {entry['policy_branch']}, {entry['intent']} {entry['offer_days']} days\n"
        f"AGENT        {entry['reply_text']}" + ("  [template]" if entry["reply_from_fallback"] else "") + "\n"
        f"timings      {timings}"
    )


def _write_run_files(out_dir: Path, report: dict, timeline, rate: int) -> dict:
    from .speech.audio import concatenate, write_wav

    files = {}
    if timeline:
        conversation = concatenate([samples for _, samples in timeline], rate, gap_s=0.3)
        write_wav(out_dir / "conversation.wav", conversation, rate)
        files["conversation_wav"] = str(out_dir / "conversation.wav")
    (out_dir / "transcript.json").write_text(json.dumps(report, indent=2))
    files["transcript_json"] = str(out_dir / "transcript.json")
    try:
        plot_trajectories(report, out_dir / "emotions.png")
        files["plot_png"] = str(out_dir / "emotions.png")
    except Exception as error:  # a plot must never lose the transcript
        files["plot_error"] = str(error)
    return files


def plot_trajectories(report: dict, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .eq.emotions import EMOTIONS, HIDDEN_STATES

    turns = report["turns"]
    x = [t["turn"] for t in turns]
    figure, (ax_emotion, ax_belief, ax_offer) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    for label in EMOTIONS:
        ax_emotion.plot(x, [t["emotion_probs"].get(label, 0.0) for t in turns], marker="o", label=label)
    ax_emotion.set_ylabel("P(debtor emotion)")
    ax_emotion.legend(ncol=4, fontsize=8)
    ax_emotion.set_title(f"Scenario {report['scenario']['scenario_id']}, persona {report['persona']}: "
                         f"{report['outcome']['result']}")
    for label in HIDDEN_STATES:
        ax_belief.plot(x, [t["belief"].get(label, 0.0) for t in turns], marker="s", label=label)
    ax_belief.set_ylabel("belief (hidden state)")
    ax_belief.legend(ncol=2, fontsize=8)
    ax_offer.plot(x, [t["offer_days"] for t in turns], marker="o", label="creditor offer (days)")
    debtor_offers = [(t["turn"], t.get("debtor_offer_days")) for t in turns if t.get("debtor_offer_days")]
    if debtor_offers:
        ax_offer.plot(*zip(*debtor_offers), marker="^", label="debtor offer (days)")
    for t in turns:
        ax_offer.annotate(t["creditor_emotion"] or "", (t["turn"], t["offer_days"] or 0), fontsize=7,
                          textcoords="offset points", xytext=(0, 6), ha="center")
    ax_offer.axhline(report["scenario"]["creditor_target_days"], linestyle="--", color="gray", label="creditor target")
    ax_offer.set_xlabel("debtor turn")
    ax_offer.xaxis.get_major_locator().set_params(integer=True)
    ax_offer.set_ylabel("days")
    ax_offer.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)
