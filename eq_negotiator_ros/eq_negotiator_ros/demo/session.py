"""A spoken negotiation through the real node graph with a simulated debtor who speaks: the engine
of `eq-negotiator demo`, `eq-negotiator bench-latency` and the end-to-end tests."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from ..config import NegotiatorConfig, TtsConfig
from ..eq.records import Offer

# The debtor speaks a little slower than the agent, so the two voices are easy to tell apart.
DEBTOR_LENGTH_SCALE = 1.15
GRAPH_READY_TIMEOUT_S = 180.0
REPLY_TIMEOUT_S = 90.0
# From the end of the debtor's speech to the ASR's transcript.
HEARD_TIMEOUT_S = 15.0
# After the end of the debtor's voiced speech, the ASR may still be recognising a last part of the
# turn (its silence, then recognition): a turn is over only once this has passed as well.
LAST_PART_SETTLE_S = 3.0
FINISHED_PHASES = ("agreed", "failed", "aborted")
# The nodes publish /diagnostics about once a second.
DIAGNOSTICS_PERIOD_S = 1.2


class DemoError(RuntimeError):
    """The demo could not run; the message says what failed and what to do."""


def unique_namespace() -> str:
    """A namespace of its own for one demo run: two demos on one ROS domain never share a topic, so
    neither aborts the other's session nor hears its replies."""
    return f"eq_negotiator_demo_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunOptions:
    """How run_spoken_negotiation runs (see its docstring)."""

    config_path: Optional[str]
    out_dir: Path
    overrides: Mapping[str, Any] = field(default_factory=dict)
    scenario_id: str = ""
    persona: str = "vanilla"
    max_turns: int = 6
    seed: int = 1
    log: Callable[[str], None] = print
    show_node_logs: bool = False
    scripted_lines: Optional[Sequence[str]] = None
    kill_after_turn: Mapping[int, str] = field(default_factory=dict)
    kill_during_reply: Mapping[int, str] = field(default_factory=dict)
    restart_killed: bool = True
    namespace: Optional[str] = None
    write_files: bool = True
    # The debtor pauses between the sentences of a turn for a time drawn from this range (seconds,
    # seeded by `seed`), as people do; None = Piper's own sentence pause.
    sentence_pauses_s: Optional[tuple[float, float]] = None
    # Piper's generator noise off for the debtor's voice: the same audio for the same words every
    # run (tests that must not depend on one random rendering).
    steady_debtor_voice: bool = False
    # When a negotiation ends before max_turns, start another one (a benchmark that must time
    # max_turns turns); otherwise the run ends with it.
    until_max_turns: bool = False


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
    kill_after_turn: Optional[Mapping[int, str]] = None,
    kill_during_reply: Optional[Mapping[int, str]] = None,
    restart_killed: bool = True,
    namespace: Optional[str] = None,
    write_files: bool = True,
    sentence_pauses_s: Optional[tuple[float, float]] = None,
    steady_debtor_voice: bool = False,
    until_max_turns: bool = False,
) -> dict:
    """Run the graph, negotiate up to max_turns debtor turns, write the run files, return the report.

    scripted_lines replaces the debtor simulator with fixed lines (tests, latency runs);
    kill_after_turn {turn: node name} kills that node (SIGKILL) once that turn is finished, and
    with restart_killed starts it again and waits until it reports ready (the fault checks);
    kill_during_reply {turn: node} does the same as soon as that turn's directive is out, while
    the reply is being phrased and spoken.
    namespace: the graph's namespace (default: a new one per run, see unique_namespace).
    sentence_pauses_s (low, high): the debtor pauses that long between the sentences of a turn;
    steady_debtor_voice: the debtor's voice without Piper's random generator noise.
    until_max_turns: a negotiation that ends early is followed by another until max_turns turns.

    Whatever happens, the transcript of what happened is written (with write_files): a node that
    dies, a reply that never comes or Ctrl-C end the run with a DemoError (KeyboardInterrupt is
    raised again) after transcript.json holds every finished turn and the error."""
    options = RunOptions(
        config_path=config_path,
        out_dir=out_dir,
        overrides=dict(overrides or {}),
        scenario_id=scenario_id,
        persona=persona,
        max_turns=max_turns,
        seed=seed,
        log=log,
        show_node_logs=show_node_logs,
        scripted_lines=scripted_lines,
        kill_after_turn=dict(kill_after_turn or {}),
        kill_during_reply=dict(kill_during_reply or {}),
        restart_killed=restart_killed,
        namespace=namespace,
        write_files=write_files,
        sentence_pauses_s=sentence_pauses_s,
        steady_debtor_voice=steady_debtor_voice,
        until_max_turns=until_max_turns,
    )
    return SpokenNegotiation(config, options).run()


class SpokenNegotiation:
    """One run: the graph, the driver that speaks into it, the simulated debtor, and what happened."""

    def __init__(self, config: NegotiatorConfig, options: RunOptions):
        from ..graph.runner import NodeGraph
        from ..speech.tts import SpeechSynthesizer

        self.config, self.options, self.log = config, options, options.log
        options.out_dir.mkdir(parents=True, exist_ok=True)
        self.scenario = _scenario(config, options.scenario_id)
        self.debtor = _debtor(config, self.scenario, options)
        node_overrides = {
            # A fresh session store per run: the demo must not resume a negotiation left by another run.
            "session.store_path": str(options.out_dir / "sessions.sqlite"),
            "run_dir": str(options.out_dir),
            **options.overrides,
        }
        self.node_logs: list[str] = []
        arguments = {
            "use_mic": "false",
            "params_file": options.config_path or "",
            "namespace": options.namespace or unique_namespace(),
        }
        self.node_graph = NodeGraph(arguments, overrides=node_overrides, on_output=self.on_output)
        self.debtor_voice = SpeechSynthesizer(_debtor_voice_config(config.tts, options))
        self.pause_rng = np.random.default_rng(options.seed)
        self.rate = config.audio.sample_rate_hz
        self.driver = None
        self.timeline: list[tuple[str, np.ndarray]] = []  # (speaker, 16 kHz samples) in speaking order
        self.turns_report: list[dict] = []
        self.opening = None
        self.turn = 0
        self.sessions = 0  # negotiations opened so far
        self.started = time.perf_counter()

    @property
    def persona(self) -> str:
        return self.options.persona if self.debtor else "scripted"

    def on_output(self, name: str, line: str) -> None:
        self.node_logs.append(f"[{name}] {line}")
        if self.options.show_node_logs or name == "graph":
            self.log(f"  [{name}] {line}")

    def run(self) -> dict:
        import rclpy
        from rclpy.signals import SignalHandlerOptions

        from ..graph.runner import LaunchError, NodeDiedError, describe_exit

        context = rclpy.Context()
        # The demo handles Ctrl-C and SIGTERM itself (it writes the transcript, then stops the nodes).
        rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
        try:
            self.start_graph(context)
            self.negotiate()
            time.sleep(DIAGNOSTICS_PERIOD_S)  # the nodes' counts as of the last turn
            report = self.build_report()
            if self.options.write_files:
                report["files"] = _write_run_files(self.options.out_dir, report, self.timeline, self.rate)
            return report
        except NodeDiedError as error:
            # Its own last lines say why (a traceback, an error it logged); the demo hides node logs.
            last_lines = [line for line in self.node_logs if line.startswith(f"[{error.node}]")][-12:]
            message = f"node {error.node} died ({describe_exit(error.returncode)})"
            raise self.fail(message, error.node, "".join(f"\n  {line}" for line in last_lines)) from None
        except (DemoError, LaunchError, TimeoutError) as error:
            raise self.fail(str(error)) from None
        except BaseException as error:  # Ctrl-C, SIGTERM, or a bug: the transcript is written all the same
            reason = "interrupted" if not isinstance(error, Exception) else f"{type(error).__name__}: {error}"
            self.log(str(self.fail(reason)))
            raise
        finally:
            if self.driver is not None:
                self.driver.close()
                self.driver.destroy_node()
            self.node_graph.stop()
            rclpy.shutdown(context=context)

    def negotiate(self) -> None:
        """Up to max_turns debtor turns: in one negotiation, or in as many as it takes with
        until_max_turns."""
        while len(self.turns_report) < self.options.max_turns:
            if self.sessions:
                self.debtor = _debtor(self.config, self.scenario, self.options, seed_offset=self.sessions)
            self.open_session()
            self.sessions += 1
            played_before = len(self.turns_report)
            for turn in range(1, self.options.max_turns - played_before + 1):
                self.turn = turn
                if not self.play_turn(turn):
                    break
            finished = self.driver.state is not None and self.driver.state.phase in FINISHED_PHASES
            if not (self.options.until_max_turns and finished) or len(self.turns_report) == played_before:
                return

    def start_graph(self, context) -> None:
        from ..graph.runner import LaunchError
        from .voice_driver import VoiceDriver

        graph, scenario = self.node_graph, self.scenario
        graph.start()
        self.driver = VoiceDriver(
            graph.namespace, chunk_ms=self.config.audio.chunk_ms, sample_rate_hz=self.rate, context=context
        )
        self.log(
            f"starting the graph ({', '.join(graph.processes)}) in {graph.namespace} and loading the models "
            f"..."
        )
        try:
            self.driver.wait_for_graph(GRAPH_READY_TIMEOUT_S, alive=graph.check_alive)
        except (TimeoutError, LaunchError) as error:
            raise DemoError(f"{error}\n" + "\n".join(self.node_logs[-20:])) from None
        self.log(
            f"graph ready in {time.perf_counter() - self.started:.1f} s; scenario {scenario.scenario_id}: "
            f"creditor wants {scenario.creditor_target_days} days, debtor {scenario.debtor_target_days} "
            f"days, "
            f"balance {scenario.outstanding_balance:,.0f} {scenario.currency}; persona {self.persona}"
        )

    def open_session(self) -> None:
        from ..speech.audio import resample

        response = self.driver.start_session(self.scenario.scenario_id)
        if not response.success:
            raise DemoError(f"start_session failed: {response.message}")
        self.opening = self.driver.observation(0)
        _wait_reply(self.driver, self.opening, self.node_graph)
        _append_creditor_audio(self.timeline, self.opening, self.rate, resample)
        self.log(f"\nAGENT  [{_emotion(self.opening)}] {self.opening.reply_text}")

    def debtor_line(self, turn: int) -> Optional[tuple[str, dict]]:
        """What the debtor says at this turn and the simulator's truth about it; None when the
        scripted lines are spent."""
        if self.options.scripted_lines is not None:
            lines = self.options.scripted_lines
            if self.options.until_max_turns and lines:  # the lines again, until max_turns are played
                return lines[(turn - 1) % len(lines)], {}
            return (lines[turn - 1], {}) if turn <= len(lines) else None
        directive = self.driver.observation(turn - 1).directive
        offer = (
            Offer(days=int(directive.offer_days), upfront_amount=float(directive.upfront_amount))
            if directive
            else None
        )
        debtor_turn = self.debtor.respond(directive.creditor_emotion if directive else "neutral", offer)
        return debtor_turn.text, {
            "debtor_true_emotion": debtor_turn.true_emotion,
            "debtor_intent": debtor_turn.intent,
            "debtor_tactics": list(debtor_turn.tactics),
        }

    def debtor_speech(self, text: str) -> np.ndarray:
        """The debtor's voice saying `text`: Piper's sentences, with a pause drawn from
        sentence_pauses_s between them when it is set (from the end of one sentence's voice to the
        start of the next: Piper's own silence around a sentence is taken off first)."""
        from .voice_driver import voiced_span

        pauses = self.options.sentence_pauses_s
        if pauses is None:
            return self.debtor_voice.synthesize(text)
        rate = self.debtor_voice.sample_rate_hz
        sentences = list(self.debtor_voice.stream(text))
        parts: list[np.ndarray] = []
        for index, sentence in enumerate(sentences):
            start, end = voiced_span(sentence, rate)
            # The turn keeps Piper's silence before its first word and after its last.
            start = 0 if index == 0 else start
            end = sentence.size if index == len(sentences) - 1 else end
            if parts:
                pause_s = float(self.pause_rng.uniform(*pauses))
                parts.append(np.zeros(int(round(pause_s * rate)), dtype=np.float32))
            parts.append(sentence[start:end])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def play_turn(self, turn: int) -> bool:
        """The debtor speaks, the graph answers; False when the negotiation is over."""
        from ..speech.audio import resample

        line = self.debtor_line(turn)
        if line is None:
            return False
        text, truth = line
        driver, graph = self.driver, self.node_graph
        voice = self.debtor_speech(text)
        samples = resample(voice, self.debtor_voice.sample_rate_hz, self.rate) if voice.size else voice
        graph.check_alive()
        self.timeline.append(("debtor", samples))
        observation = driver.speak(turn, text, samples)
        heard = driver.wait_for(lambda: observation.asr is not None or _dead(graph), HEARD_TIMEOUT_S)
        graph.check_alive()
        if not heard:
            self.log(f"DEBTOR {text}\n       (the ASR heard no speech; the turn is skipped)")
            return True
        if turn in self.options.kill_during_reply:
            driver.wait_for(lambda: observation.directive is not None or _dead(graph), REPLY_TIMEOUT_S)
            graph.check_alive()
            _kill_node(
                graph, driver, self.options.kill_during_reply[turn], self.options.restart_killed, self.log
            )
        _wait_reply(driver, observation, graph)
        _append_creditor_audio(self.timeline, observation, self.rate, resample)
        entry = _turn_entry(observation, truth)
        entry["negotiation"] = self.sessions
        state = driver.state
        entry["debtor_offer_days"] = (
            int(state.debtor_offer_days) if state and state.debtor_offer_days else None
        )
        self.turns_report.append(entry)
        self.log(_format_turn(entry))
        if turn in self.options.kill_after_turn:
            _kill_node(
                graph, driver, self.options.kill_after_turn[turn], self.options.restart_killed, self.log
            )
        return not (driver.state is not None and driver.state.phase in FINISHED_PHASES)

    def outcome(self, error: str = "", failed_node: str = "") -> dict:
        driver = self.driver
        state = driver.state if driver is not None else None
        result = {"agreed": "success", "failed": "failure"}.get(state.phase if state else "", "unfinished")
        outcome = {
            "result": "error" if error else result,
            "phase": state.phase if state else "",
            "session_id": state.session_id if state else (driver.session_id or "" if driver else ""),
            "debtor_turns": len(self.turns_report),
            "utterances": int(state.utterances) if state else 0,
            "agreed_days": int(state.agreed_days) if state else 0,
            "creditor_offer_days": int(state.creditor_offer_days) if state else 0,
            "debtor_offer_days": int(state.debtor_offer_days) if state else 0,
            "creditor_target_days": self.scenario.creditor_target_days,
        }
        if error:
            outcome["error"] = error
            if failed_node:
                outcome["failed_node"] = failed_node
            turn = self.turn
            unfinished = driver.turns.get((driver.session_id or "", turn)) if driver and turn else None
            if unfinished is not None and turn not in {t["turn"] for t in self.turns_report}:
                outcome["unfinished_turn"] = {
                    "turn": turn,
                    "debtor_text": unfinished.debtor_text,
                    "asr_text": unfinished.asr.text if unfinished.asr else "",
                    "reply_text": unfinished.reply_text,
                }
        return outcome

    def build_report(self, error: str = "", failed_node: str = "") -> dict:
        graph, driver, opening = self.node_graph, self.driver, self.opening
        graph.sample_memory()
        return {
            "scenario": self.scenario.to_dict(),
            "persona": self.persona,
            "seed": self.options.seed,
            "namespace": graph.namespace,
            "opening": {
                "reply_text": opening.reply_text,
                "creditor_emotion": _emotion(opening),
                "offer_days": int(opening.directive.offer_days) if opening.directive else None,
            }
            if opening is not None
            else {},
            "turns": self.turns_report,
            "negotiations": self.sessions,
            "asr_speculation": _speculation(driver),
            "outcome": self.outcome(error, failed_node),
            "isolation": {
                "messages_of_other_sessions": driver.foreign_messages if driver else 0,
                "repeated_reply_sentences": driver.repeated_sentences if driver else 0,
            },
            "nodes": graph.status(),
            "peak_memory_mb": {
                **{k: round(v, 1) for k, v in graph.peak_mb.items()},
                "graph_total": round(sum(graph.peak_mb.values()), 1),
            },
            "wall_time_s": round(time.perf_counter() - self.started, 1),
        }

    def fail(self, error: str, failed_node: str = "", detail: str = "") -> DemoError:
        """The run cannot go on: write what happened, and say where it is."""
        report = self.build_report(error, failed_node)
        where = ""
        out_dir = self.options.out_dir
        if self.options.write_files:
            try:
                report["files"] = _write_run_files(out_dir, report, self.timeline, self.rate)
                count = len(self.turns_report)
                finished = f"{count} finished turn" + ("" if count == 1 else "s")
                where = f"; the transcript ({finished}) is in {report['files']['transcript_json']}"
            except OSError as write_error:
                where = f"; the transcript could not be written to {out_dir}: {write_error}"
        return DemoError(f"{error}{where}{detail}")


def _scenario(config: NegotiatorConfig, scenario_id: str):
    from ..sim.scenarios import find_scenario, load_scenarios

    try:
        return find_scenario(
            load_scenarios(config.session.scenarios_path), scenario_id or config.session.default_scenario
        )
    except (KeyError, ValueError) as error:
        raise DemoError(str(error)) from None


def _debtor_voice_config(tts: TtsConfig, options: RunOptions) -> TtsConfig:
    """The simulated debtor's voice: the robot's voice a little slower (a pitch shift, tried to make
    it another person, made Whisper mishear short sentences such as "Understood." as "I'm your
    stud."); with sentence_pauses_s the pauses between sentences are drawn by the demo, not Piper's."""
    steady = {"noise_scale": 0.0, "noise_w": 0.0} if options.steady_debtor_voice else {}
    return TtsConfig(
        voice_path=tts.voice_path,
        voice_config_path=tts.voice_config_path,
        length_scale=tts.length_scale * DEBTOR_LENGTH_SCALE,
        play_audio=False,
        record=False,
        **({"sentence_pause_s": 0.0} if options.sentence_pauses_s is not None else {}),
        **steady,
    )


def _debtor(config: NegotiatorConfig, scenario, options: RunOptions, seed_offset: int = 0):
    """The simulated debtor of the persona; None when the lines are scripted."""
    from ..sim.debtor import DebtorSimulator, load_personas

    if options.scripted_lines is not None:
        return None
    personas = load_personas()
    if options.persona not in personas:
        raise DemoError(f"unknown persona {options.persona!r}; choose one of {', '.join(sorted(personas))}")
    debtor = DebtorSimulator(personas[options.persona], config.eq.model)
    debtor.reset(scenario, options.seed + seed_offset)
    return debtor


def _kill_node(node_graph, driver, name: str, restart: bool, log: Callable[[str], None]) -> None:
    """Fault injection between turns: SIGKILL one node; with restart, start it again and wait until
    the new process reports ready."""
    log(f"  (killing {name}" + (" and starting it again)" if restart else ")"))
    node_graph.kill_node(name)
    if not restart:
        return
    node_graph.restart_node(name)
    driver.wait_for_node(
        name, node_graph.processes[name].pid, GRAPH_READY_TIMEOUT_S, alive=node_graph.check_alive
    )


def _wait_reply(driver, observation, node_graph) -> None:
    """Until every utterance heard in the turn has been answered and every answer spoken."""

    def over() -> bool:
        state = driver.state
        finished = state is not None and state.phase in FINISHED_PHASES
        since_speech_s = time.perf_counter() - observation.speech_end_t
        settled = observation.turn == 0 or since_speech_s >= LAST_PART_SETTLE_S
        return (
            observation.replies_spoken
            and (observation.unanswered_utterances == 0 or finished)
            and settled
            and not driver.robot_speaking
        )

    done = driver.wait_for(lambda: over() or _dead(node_graph), REPLY_TIMEOUT_S)
    node_graph.check_alive()
    if not done:
        raise DemoError(f"no complete reply to turn {observation.turn} within {REPLY_TIMEOUT_S:.0f} s")


def _speculation(driver) -> dict:
    """The ASR's speculative starts and how many were thrown away (its latest /diagnostics)."""
    values = driver.latest_values("asr_node") if driver is not None else {}
    starts = int(values.get("speculative_starts", 0) or 0)
    discards = int(values.get("speculative_discards", 0) or 0)
    return {
        "starts": starts,
        "discards": discards,
        "discarded_share": round(discards / starts, 3) if starts else 0.0,
        "continuations": int(values.get("continuations", 0) or 0),
    }


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
        "emotion_probs": dict(zip(emotion.emotion_labels, map(float, emotion.emotion_probs)))
        if emotion
        else {},
        "belief": dict(zip(emotion.hidden_state_labels, map(float, emotion.hidden_state_belief)))
        if emotion
        else {},
        "creditor_emotion": directive.creditor_emotion if directive else None,
        "policy_branch": directive.policy_branch if directive else None,
        "intent": directive.intent if directive else None,
        "offer_days": int(directive.offer_days) if directive else None,
        "reply_text": observation.reply_text,
        "reply_from_fallback": observation.reply_from_fallback,
        # Utterances the ASR made of the turn (more than one: it paused longer than min_silence_ms)
        # and reply audio chunks that came while the debtor was still speaking.
        "utterances_heard": len(observation.heard),
        "reply_chunks_during_speech": observation.replies_during_speech,
        "answered_after_speech": observation.answered_after_speech,
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
        f"decision     {entry['creditor_emotion']} via {entry['policy_branch']}, {entry['intent']} "
        f"{entry['offer_days']} days\n"
        f"AGENT        {entry['reply_text']}"
        + ("  [template]" if entry["reply_from_fallback"] else "")
        + "\n"
        f"timings      {timings}"
    )


def _write_run_files(out_dir: Path, report: dict, timeline, rate: int) -> dict:
    from ..speech.audio import concatenate, write_wav

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

    from ..eq.emotions import EMOTIONS, HIDDEN_STATES

    turns = report["turns"]
    x = [t["turn"] for t in turns]
    figure, (ax_emotion, ax_belief, ax_offer) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    for label in EMOTIONS:
        ax_emotion.plot(x, [t["emotion_probs"].get(label, 0.0) for t in turns], marker="o", label=label)
    ax_emotion.set_ylabel("P(debtor emotion)")
    ax_emotion.legend(ncol=4, fontsize=8)
    ax_emotion.set_title(
        f"Scenario {report['scenario']['scenario_id']}, persona {report['persona']}: "
        f"{report['outcome']['result']}"
    )
    for label in HIDDEN_STATES:
        ax_belief.plot(x, [t["belief"].get(label, 0.0) for t in turns], marker="s", label=label)
    ax_belief.set_ylabel("belief (hidden state)")
    ax_belief.legend(ncol=2, fontsize=8)
    ax_offer.plot(x, [t["offer_days"] for t in turns], marker="o", label="creditor offer (days)")
    debtor_offers = [(t["turn"], t.get("debtor_offer_days")) for t in turns if t.get("debtor_offer_days")]
    if debtor_offers:
        ax_offer.plot(*zip(*debtor_offers), marker="^", label="debtor offer (days)")
    for t in turns:
        ax_offer.annotate(
            t["creditor_emotion"] or "",
            (t["turn"], t["offer_days"] or 0),
            fontsize=7,
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
        )
    ax_offer.axhline(
        report["scenario"]["creditor_target_days"], linestyle="--", color="gray", label="creditor target"
    )
    ax_offer.set_xlabel("debtor turn")
    ax_offer.xaxis.get_major_locator().set_params(integer=True)
    ax_offer.set_ylabel("days")
    ax_offer.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)
