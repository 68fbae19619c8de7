"""A spoken negotiation end to end through the real nodes (separate processes, real DDS) and the
real models: the debtor's synthesised voice goes in on audio/in, the agent's voice comes out."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.demo.session import run_spoken_negotiation, unique_namespace

LINES = (
    "I lost my job last month and I really cannot pay all of this now.",
    "Could we make it ninety days? I am begging you, I need the time.",
    "This is ridiculous. Thirty days is impossible and you know it.",
    "Alright, I can pay in sixty days.",
)


@pytest.fixture(scope="module")
def spoken_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("spoken")
    config = load_config()
    namespace = unique_namespace()
    listener = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("emotion_listener.py")),
            f"/{namespace}/debtor_emotion",
            "240",
            str(len(LINES)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert json.loads(listener.stdout.readline())["ready"]
    try:
        report = run_spoken_negotiation(
            config,
            config_path=None,
            overrides={"tts.play_audio": False, "eq.learning.state_path": str(out / "learned.json")},
            max_turns=len(LINES),
            out_dir=out,
            log=lambda line: None,
            scripted_lines=LINES,
            kill_after_turn={1: "eq_reasoning_node"},
            namespace=namespace,
        )
    finally:
        try:
            received, _ = listener.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            listener.kill()
            received, _ = listener.communicate()
    return report, [json.loads(line) for line in received.splitlines() if line.strip()], out


def test_every_turn_crosses_asr_reasoning_language_model_and_tts(spoken_run):
    report, _, _ = spoken_run
    turns = report["turns"]
    assert len(turns) >= 3
    for turn in turns:
        assert turn["asr_text"], f"ASR heard nothing in turn {turn['turn']}"
        assert turn["emotion"] in turn["emotion_probs"]
        assert sum(turn["emotion_probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert sum(turn["belief"].values()) == pytest.approx(1.0, abs=1e-3)
        assert turn["creditor_emotion"] and turn["reply_text"]
        assert turn["timings_s"]["time_to_first_audio_s"] > 0
    assert report["opening"]["reply_text"]


def test_the_asr_hears_the_debtor_words(spoken_run):
    from eq_negotiator_ros.speech.wer import word_error_rate

    report, _, _ = spoken_run
    errors = [word_error_rate(t["debtor_text"], t["asr_text"]) for t in report["turns"]]
    assert sum(errors) / len(errors) <= 0.25, errors


def test_another_process_receives_debtor_emotion_for_each_turn(spoken_run):
    report, received, _ = spoken_run
    turns_heard = {t["turn"] for t in report["turns"]}
    assert turns_heard <= {m["turn"] for m in received}
    assert all(len(m["probs"]) == 7 and len(m["belief"]) == 4 for m in received)


def test_a_restarted_reasoning_node_resumes_the_same_session(spoken_run):
    report, received, _ = spoken_run
    # The reasoning node was killed after turn 1 and started again: the later turns continue the
    # same session (same id, turn numbers going on, not starting over at 1).
    session_ids = {m["session_id"] for m in received}
    assert len(session_ids) == 1
    assert [m["turn"] for m in received] == sorted(m["turn"] for m in received)
    assert max(m["turn"] for m in received) >= 3
    assert report["outcome"]["session_id"] in session_ids
    assert report["outcome"]["utterances"] >= 2 * len(report["turns"])


def test_the_run_files_are_written(spoken_run):
    report, _, out = spoken_run
    from eq_negotiator_ros.speech.audio import read_wav

    audio, rate = read_wav(out / "conversation.wav")
    assert rate == 16000 and len(audio) / rate > 10.0
    transcript = json.loads((out / "transcript.json").read_text())
    assert transcript["turns"][0]["debtor_text"] == LINES[0]
    assert (out / "emotions.png").stat().st_size > 10_000
