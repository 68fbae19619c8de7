"""Fault cases of the node graph, with the real nodes (separate processes, real DDS) and the real
models: each node killed in the middle of a negotiation and restarted, a node that dies under a
demo, two demos on one ROS domain, messages of another session, and `eq-negotiator run` stopped
by a signal or losing a node.

The spoken negotiation with four kills runs once for the module (one graph); the cases that need
a graph of their own start the smallest one that shows the behaviour."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from graph_harness import (  # noqa: E402 - the test folder is on sys.path (pytest rootdir import)
    NODE_NAMES,
    STALLING_LINES,
    CommandProcess,
    GraphWatcher,
    node_pids,
    process_running,
    unique_namespace,
)

from eq_negotiator_ros import graph
from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.demo.session import run_spoken_negotiation
from eq_negotiator_ros.graph.runner import NodeGraph, NodeHealth

EMOTION_LISTENER = Path(__file__).resolve().parents[1] / "integration" / "emotion_listener.py"
# The node killed (SIGKILL) after each finished turn, then started again; turn 5 follows the last kill.
KILLS = {1: "asr_node", 2: "eq_reasoning_node", 3: "slm_node", 4: "tts_node"}
# ... and killed as soon as the directive of a turn is out, while the reply is phrased and spoken.
KILLS_DURING_REPLY = {6: "slm_node", 7: "tts_node"}
TURNS = len(KILLS) + len(KILLS_DURING_REPLY) + 1
GRAPH_START_S = 240.0


def quiet_overrides(out: Path) -> dict:
    return {"tts.play_audio": False, "eq.learning.state_path": str(out / "learned.json")}


# -- each node killed and restarted in one negotiation ---------------------------------------


@pytest.fixture(scope="module")
def killed_and_restarted(tmp_path_factory):
    out = tmp_path_factory.mktemp("kills")
    namespace = unique_namespace("faults_kills")
    listener = subprocess.Popen(
        [sys.executable, str(EMOTION_LISTENER), f"/{namespace}/debtor_emotion", "600", str(TURNS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert json.loads(listener.stdout.readline())["ready"]
    log: list[str] = []
    try:
        report = run_spoken_negotiation(
            load_config(),
            config_path=None,
            overrides=quiet_overrides(out),
            max_turns=TURNS,
            out_dir=out,
            log=log.append,
            show_node_logs=True,
            scripted_lines=STALLING_LINES[:TURNS],
            kill_after_turn=KILLS,
            kill_during_reply=KILLS_DURING_REPLY,
            namespace=namespace,
        )
    finally:
        try:
            received, _ = listener.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            listener.kill()
            received, _ = listener.communicate()
    emotions = [json.loads(line) for line in received.splitlines() if line.strip()]
    return report, emotions, out, log


def test_no_finished_turn_is_lost_when_each_node_is_killed_and_restarted(killed_and_restarted):
    report, emotions, out, _ = killed_and_restarted
    assert report["outcome"]["result"] != "error", report["outcome"]
    # Every spoken turn was heard, reasoned about and answered, numbered 1, 2, 3, ... with no gap.
    assert [t["turn"] for t in report["turns"]] == list(range(1, TURNS + 1))
    for turn in report["turns"]:
        assert turn["asr_text"] and turn["emotion"] and turn["creditor_emotion"] and turn["reply_text"], turn
    # The transcript on disk keeps every finished turn.
    transcript = json.loads((out / "transcript.json").read_text())
    assert [t["debtor_text"] for t in transcript["turns"]] == list(STALLING_LINES[:TURNS])
    # Another process saw one session whose turns go on consecutively across the five restarts.
    assert {m["session_id"] for m in emotions} == {report["outcome"]["session_id"]}
    assert [m["turn"] for m in emotions] == list(range(1, TURNS + 1))
    assert report["outcome"]["phase"] in ("negotiating", "agreed", "failed")
    assert report["outcome"]["utterances"] >= 2 * len(report["turns"])


@pytest.mark.parametrize("killed_after_turn, node", sorted(KILLS.items()))
def test_the_turn_after_a_restart_is_a_correct_continuation(killed_and_restarted, killed_after_turn, node):
    report, _, _, log = killed_and_restarted
    assert any(f"killing {node}" in line for line in log)
    kills = [n for n in (*KILLS.values(), *KILLS_DURING_REPLY.values()) if n == node]
    assert report["nodes"][node]["restarts"] == len(kills) and report["nodes"][node]["pid"] > 0
    after = next(t for t in report["turns"] if t["turn"] == killed_after_turn + 1)
    before = next(t for t in report["turns"] if t["turn"] == killed_after_turn)
    # The reply after the restart answers the turn after the kill, once, in the same negotiation.
    assert after["asr_text"] and after["reply_text"] and after["offer_days"]
    # The negotiation went on where it was: a creditor never takes a concession back, so an offer
    # below the one before would mean the session had started over.
    assert after["offer_days"] >= before["offer_days"]
    assert report["isolation"]["messages_of_other_sessions"] == 0


# What the restarted node logs when it takes up the reply its predecessor had not finished.
TAKEN_UP = {
    "slm_node": "answering turn {turn} of session {session}",
    "tts_node": "of turn {turn} of session {session}: it was sent before this node started",
}


@pytest.mark.parametrize("turn, node", sorted(KILLS_DURING_REPLY.items()))
def test_a_reply_cut_off_by_a_node_death_is_given_after_the_restart(killed_and_restarted, turn, node):
    report, _, _, log = killed_and_restarted
    node_lines = [line for line in log if line.lstrip().startswith(f"[{node}]")]
    # The restarted node got the latched directive (SLM) or sentences (TTS) and took the reply up.
    taken_up = TAKEN_UP[node].format(turn=turn, session=report["outcome"]["session_id"])
    assert any(taken_up in line for line in node_lines), "the kill came after the reply was out"
    cut_off = next(t for t in report["turns"] if t["turn"] == turn)
    assert cut_off["reply_text"] and cut_off["timings_s"]["time_to_first_audio_s"] > 0
    # What had been answered or spoken before the restart was not taken up again.
    assert not any("answering turn" in line and f"turn {turn} " not in line for line in node_lines)
    assert not any(
        "was sent before this node started" in line and f"turn {turn} " not in line for line in node_lines
    )


# -- a node that dies under a demo -----------------------------------------------------------


def test_a_node_that_dies_ends_the_demo_with_an_error_and_the_transcript(tmp_path):
    """The ASR node dies after the first turn and is not restarted: the demo must not skip turns
    and report 'unfinished', it must end with exit code 1, name the node, and keep turn 1."""
    out = tmp_path / "demo"
    demo = CommandProcess(
        [
            "--set",
            "tts.play_audio=false",
            "--set",
            f"eq.learning.state_path={tmp_path / 'learned.json'}",
            "demo",
            "--max-turns",
            "4",
            "--persona",
            "sad",
            "--out",
            str(out),
        ]
    )
    try:
        first_turn = demo.wait_for_line(lambda line: line.startswith("--- turn 1 ---"), GRAPH_START_S)
        assert first_turn, demo.output()
        asr_pid = node_pids(demo.process.pid)["asr_node"]
        os.kill(asr_pid, signal.SIGKILL)
        code = demo.process.wait(timeout=120)
    finally:
        demo.kill()
    output = demo.output()
    assert code == 1, output
    assert "node asr_node died (signal SIGKILL)" in output
    assert "the ASR heard no speech" not in output
    transcript = json.loads((out / "transcript.json").read_text())
    assert transcript["outcome"]["result"] == "error"
    assert transcript["outcome"]["failed_node"] == "asr_node"
    assert transcript["turns"] and transcript["turns"][0]["turn"] == 1
    assert transcript["turns"][0]["reply_text"]
    assert not any(process_running(pid) for pid in node_pids(demo.process.pid).values())


def test_a_demo_stopped_by_sigterm_writes_its_transcript_and_stops_its_nodes(tmp_path):
    out = tmp_path / "demo"
    demo = CommandProcess(
        [
            "--set",
            "tts.play_audio=false",
            "--set",
            f"eq.learning.state_path={tmp_path / 'learned.json'}",
            "demo",
            "--max-turns",
            "4",
            "--persona",
            "angry",
            "--out",
            str(out),
        ]
    )
    try:
        first_turn = demo.wait_for_line(lambda line: line.startswith("--- turn 1 ---"), GRAPH_START_S)
        assert first_turn, demo.output()
        pids = node_pids(demo.process.pid)
        assert set(pids) == set(NODE_NAMES)
        demo.process.send_signal(signal.SIGTERM)
        code = demo.process.wait(timeout=60)
    finally:
        demo.kill()
    assert code == 128 + signal.SIGTERM, demo.output()
    transcript = json.loads((out / "transcript.json").read_text())
    assert transcript["outcome"]["result"] == "error" and transcript["outcome"]["error"] == "interrupted"
    assert transcript["turns"] and transcript["turns"][0]["turn"] == 1
    assert not [pid for pid in pids.values() if process_running(pid)], "nodes outlived the demo"


# -- two demos on one ROS domain -------------------------------------------------------------


def test_two_demos_on_one_domain_each_get_their_own_replies_once(tmp_path):
    demos = []
    for index in (1, 2):
        out = tmp_path / f"demo{index}"
        demos.append(
            (
                out,
                CommandProcess(
                    [
                        "--set",
                        "tts.play_audio=false",
                        "--set",
                        f"eq.learning.state_path={tmp_path / f'learned{index}.json'}",
                        "demo",
                        "--max-turns",
                        "2",
                        "--persona",
                        "vanilla",
                        "--seed",
                        str(index),
                        "--json",
                        "--out",
                        str(out),
                    ]
                ),
            )
        )
    try:
        codes = [process.process.wait(timeout=600) for _, process in demos]
    finally:
        for _, process in demos:
            process.kill()
    reports = []
    for (out, process), code in zip(demos, codes):
        assert code == 0, process.output()
        reports.append(json.loads((out / "transcript.json").read_text()))
    assert reports[0]["namespace"] != reports[1]["namespace"]
    assert reports[0]["outcome"]["session_id"] != reports[1]["outcome"]["session_id"]
    for report in reports:
        # Neither demo aborted the other's session, heard its messages or got a sentence twice.
        assert report["outcome"]["phase"] != "aborted"
        assert report["isolation"] == {"messages_of_other_sessions": 0, "repeated_reply_sentences": 0}
        assert report["opening"]["reply_text"]
        assert report["turns"] and all(t["reply_text"] for t in report["turns"])


# -- messages of another session reaching the nodes ------------------------------------------


@pytest.fixture(scope="module")
def speaking_nodes(tmp_path_factory):
    """slm_node and tts_node alone in a namespace; the test plays the reasoning node."""
    out = tmp_path_factory.mktemp("sessions")
    namespace = unique_namespace("faults_sessions")
    node_graph = NodeGraph(
        {"namespace": namespace, "use_mic": "false"},
        nodes=["slm_node", "tts_node"],
        overrides={"run_dir": str(out), "tts.play_audio": False},
    )
    watcher = GraphWatcher(namespace)
    node_graph.start()
    try:
        ready = watcher.wait_for(
            lambda: all(watcher.reporting_pid(n) for n in ("slm_node", "tts_node")), GRAPH_START_S
        )
        node_graph.check_alive()
        assert ready, "slm_node and tts_node did not report on /diagnostics"
        time.sleep(1.0)  # discovery between the watcher's publishers and the nodes settles
        yield node_graph, watcher
    finally:
        watcher.close()
        node_graph.stop()


def _state(session_id: str):
    from eq_negotiator_interfaces.msg import NegotiationState

    return NegotiationState(
        session_id=session_id,
        scenario_id="crad_000",
        turn=1,
        utterances=2,
        phase="negotiating",
        creditor_offer_days=30,
        creditor_target_days=30,
        outstanding_balance=1000.0,
        currency="USD",
    )


def _directive(session_id: str, turn: int):
    from eq_negotiator_interfaces.msg import CreditorDirective

    return CreditorDirective(
        session_id=session_id,
        turn=turn,
        creditor_emotion="neutral",
        policy_branch="fixed",
        intent="propose",
        offer_days=30,
        currency="USD",
        persona="balanced, factual",
        temperature=0.1,
        debtor_text="I need more time.",
    )


def test_the_voice_speaks_only_the_current_session_and_each_sentence_once(speaking_nodes):
    from eq_negotiator_interfaces.msg import ReplyChunk

    # First in the module: no reply of another test is still queued in the voice.
    node_graph, watcher = speaking_nodes
    watcher.state_pub.publish(_state("session_d"))
    time.sleep(0.5)
    foreign = ReplyChunk(
        session_id="session_e", turn=81, index=0, text="Another session's sentence.", final=True
    )
    own = ReplyChunk(
        session_id="session_d", turn=82, index=0, text="We can talk about the terms.", final=True
    )
    for message in (foreign, own):  # sent now: not the history a restarted node would receive
        message.header.stamp = watcher.node.get_clock().now().to_msg()
    watcher.reply_pub.publish(foreign)
    watcher.reply_pub.publish(own)
    watcher.reply_pub.publish(own)  # the same sentence a second time
    assert watcher.wait_for(lambda: 82 in watcher.audio_turns, 60.0)
    assert watcher.wait_for(
        lambda: watcher.heartbeats.get(f"{watcher.namespace}/tts_node", {}).get("dropped_sentences") == "2",
        10.0,
    )
    assert 81 not in watcher.audio_turns and watcher.audio_turns.count(82) == 1
    node_graph.check_alive()


def test_the_language_model_answers_only_the_session_the_state_names(speaking_nodes):
    node_graph, watcher = speaking_nodes
    watcher.state_pub.publish(_state("session_a"))
    time.sleep(0.5)
    watcher.directive_pub.publish(_directive("session_b", 71))  # another graph's, on the same topics
    time.sleep(0.3)  # a latched publisher keeps one directive, as the reasoning node's: one per turn
    watcher.directive_pub.publish(_directive("session_a", 72))
    assert watcher.wait_for(lambda: any(r.turn == 72 and r.final for r in watcher.replies), 120.0)
    # The foreign directive was queued first, so it was decided on before turn 72 was answered.
    assert not [r for r in watcher.replies if r.session_id == "session_b"]
    assert watcher.wait_for(
        lambda: watcher.heartbeats.get(f"{watcher.namespace}/slm_node", {}).get("dropped_directives") == "1",
        10.0,
    )
    node_graph.check_alive()


def test_a_new_session_opening_is_answered_even_when_it_arrives_before_the_state(speaking_nodes):
    node_graph, watcher = speaking_nodes
    watcher.directive_pub.publish(_directive("session_c", 73))
    time.sleep(0.3)
    watcher.state_pub.publish(_state("session_c"))
    assert watcher.wait_for(lambda: any(r.turn == 73 and r.final for r in watcher.replies), 120.0)
    assert {r.session_id for r in watcher.replies if r.turn == 73} == {"session_c"}
    node_graph.check_alive()


# -- eq-negotiator run: signals and supervision ----------------------------------------------


def _start_run(tmp_path: Path, namespace: str) -> CommandProcess:
    return CommandProcess(
        [
            "--set",
            f"run_dir={tmp_path}",
            "--set",
            f"session.store_path={tmp_path / 's.sqlite'}",
            "--set",
            "tts.play_audio=false",
            "--set",
            f"eq.learning.state_path={tmp_path / 'learned.json'}",
            "run",
            "--use-mic",
            "false",
            "--namespace",
            namespace,
        ]
    )


def test_run_restarts_a_dead_node_then_sigterm_leaves_no_node_behind(tmp_path):
    namespace = unique_namespace("faults_run")
    watcher = GraphWatcher(namespace)
    run = _start_run(tmp_path, namespace)
    seen_pids: set[int] = set()
    try:
        assert watcher.wait_for(lambda: all(watcher.reporting_pid(n) for n in NODE_NAMES), GRAPH_START_S), (
            run.output()
        )
        pids = node_pids(run.process.pid)
        assert set(pids) == set(NODE_NAMES)
        seen_pids.update(pids.values())
        # The reasoning node dies: the runner reports it and starts it again (safe: it resumes).
        os.kill(pids["eq_reasoning_node"], signal.SIGKILL)
        death = "node eq_reasoning_node exited with signal SIGKILL; restarting"
        assert run.wait_for_line(lambda line: death in line, 30.0), run.output()
        assert watcher.wait_for(
            lambda: watcher.reporting_pid("eq_reasoning_node") not in (0, pids["eq_reasoning_node"]), 120.0
        )
        assert watcher.wait_for(
            lambda: watcher.graph_status.get("eq_reasoning_node", {}).get("restarts") == "1", 10.0
        )
        seen_pids.update(node_pids(run.process.pid).values())
        run.process.send_signal(signal.SIGTERM)
        code = run.process.wait(timeout=60)
    finally:
        run.kill()
        watcher.close()
    assert code == 0, run.output()
    assert "SIGTERM received: stopping the nodes" in run.output()
    assert len(seen_pids) == len(NODE_NAMES) + 1
    assert not [pid for pid in seen_pids if process_running(pid)], "node processes outlived eq-negotiator run"


def test_run_stopped_by_sigint_while_the_models_load_leaves_no_node_behind(tmp_path):
    run = _start_run(tmp_path, unique_namespace("faults_sigint"))
    try:
        assert run.wait_for_line(lambda line: line.startswith("started "), 60.0), run.output()
        pids = node_pids(run.process.pid)
        assert set(pids) == set(NODE_NAMES)
        run.process.send_signal(signal.SIGINT)
        code = run.process.wait(timeout=60)
    finally:
        run.kill()
    assert code == 0, run.output()
    assert not [pid for pid in pids.values() if process_running(pid)], "nodes outlived eq-negotiator run"


def test_a_runner_killed_outright_takes_its_nodes_with_it(tmp_path):
    """SIGKILL cannot be forwarded: the nodes are told by the kernel (parent-death signal)."""
    run = _start_run(tmp_path, unique_namespace("faults_sigkill"))
    try:
        assert run.wait_for_line(lambda line: line.startswith("started "), 60.0), run.output()
        pids = node_pids(run.process.pid)
        assert set(pids) == set(NODE_NAMES)
    finally:
        run.kill()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(process_running(pid) for pid in pids.values()):
        time.sleep(0.5)
    assert not [pid for pid in pids.values() if process_running(pid)], "nodes outlived a killed runner"


# -- the supervisor's rules, with stand-in processes -----------------------------------------


class _SleepGraph(NodeGraph):
    """The runner's supervision with `sleep` processes in place of the nodes (no models)."""

    def start_node(self, spec: graph.NodeSpec) -> None:
        process = subprocess.Popen(["sleep", "600"], start_new_session=True)
        with self._lock:
            self.processes[spec.name] = process
            self.health.setdefault(spec.name, NodeHealth(spec.name))


def test_restarts_back_off_and_stop_after_the_limit():
    lines: list[str] = []
    supervised = _SleepGraph(
        {"use_mic": "false"}, nodes=["slm_node"], on_output=lambda _node, line: lines.append(line)
    )
    supervised.start()
    try:
        now = 1000.0
        delays = []
        for death in range(graph.MAX_RESTARTS):
            supervised.kill_node("slm_node")
            assert supervised.supervise(now) is None
            delay = supervised.health["slm_node"].restart_at - now
            delays.append(delay)
            assert supervised.supervise(now + delay) is None
            assert supervised.processes["slm_node"].poll() is None  # running again
            now += delay + 1.0
        assert delays == [
            min(graph.RESTART_BACKOFF_MAX_S, graph.RESTART_BACKOFF_S * 2**i)
            for i in range(graph.MAX_RESTARTS)
        ]
        supervised.kill_node("slm_node")
        failure = supervised.supervise(now)
        assert failure is not None and failure.node == "slm_node"
        assert supervised.status()["slm_node"]["state"] == "failed"
        assert any("not restarted again" in line for line in lines)
    finally:
        supervised.stop()


def test_an_audio_source_playing_files_is_not_restarted():
    assert not graph.restart_policy("audio_source", {"use_mic": "false"}).allowed
    assert graph.restart_policy("audio_source", {"use_mic": "true"}).allowed
    assert all(graph.restart_policy(name, {}).allowed for name in NODE_NAMES)
    supervised = _SleepGraph({"use_mic": "true"}, nodes=["audio_source"])
    supervised.start()
    supervised.arguments["use_mic"] = "false"  # as if it were playing WAV files
    try:
        supervised.kill_node("audio_source")
        failure = supervised.supervise(2000.0)
        assert failure is not None and failure.node == "audio_source"
        assert "a second time" in supervised.status()["audio_source"]["detail"]
    finally:
        supervised.stop()
