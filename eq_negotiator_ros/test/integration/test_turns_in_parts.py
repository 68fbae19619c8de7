"""Debtor turns said in several sentences with pauses of 0.3-0.8 s between them, through the real
graph (separate node processes, real DDS, the real models): every sentence and every offer reaches
the reasoning node, over 30 turns (a negotiation that ends is followed by another).

The debtor's voice is Piper with its generator noise off (the same audio every run); the pauses are
drawn from a seeded generator and run from the end of one sentence's voice to the start of the next.
"""

import json
import re
import sqlite3

import pytest

from eq_negotiator_ros.config import load_config
from eq_negotiator_ros.demo.session import run_spoken_negotiation
from eq_negotiator_ros.speech.wer import normalise_text

# (line, the offer in days it makes or None); sentences of everyday length, offers anywhere in the turn.
LINES = (
    ("Understood. How about one hundred and sixty days? I can't even pay my staff right now.", 160),
    ("I lost my job last month. I really cannot pay all of this now. Could we say ninety days?", 90),
    ("That is far too short. My family depends on me.", None),
    ("Fine. I can pay in seventy days. That is the best I can do.", 70),
    ("Please listen to me. Business has been terrible this year.", None),
    ("Okay then. Sixty days would work for me.", 60),
)
TURNS = 30
STOP_WORDS = {"a", "the", "i", "is", "to", "of", "in", "me", "my", "this", "that", "can", "be", "and"}


@pytest.fixture(scope="module")
def run_in_parts(tmp_path_factory):
    out = tmp_path_factory.mktemp("parts")
    report = run_spoken_negotiation(
        load_config(),
        config_path=None,
        overrides={"tts.play_audio": False, "eq.learning.state_path": str(out / "learned.json")},
        max_turns=TURNS,
        out_dir=out,
        log=lambda line: None,
        scripted_lines=[line for line, _ in LINES],
        sentence_pauses_s=(0.3, 0.8),
        steady_debtor_voice=True,
        until_max_turns=True,
        write_files=False,
    )
    with sqlite3.connect(out / "sessions.sqlite") as store:
        stored = [json.loads(data) for (data,) in store.execute("SELECT data FROM sessions")]
    return report, stored


def _content_words(text: str) -> list[str]:
    return [w for w in normalise_text(text).split() if w not in STOP_WORDS]


def _sentences(line: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", line) if s]


def test_every_turn_is_played(run_in_parts):
    report, _ = run_in_parts
    assert len(report["turns"]) == TURNS
    assert report["negotiations"] >= 1


def test_every_sentence_reaches_the_reasoning_node(run_in_parts):
    report, stored = run_in_parts
    # What the reasoning node keeps: the debtor's text of every turn it answered, in every session.
    reasoned = " ".join(record["debtor_text"] for session in stored for record in session.get("records", []))
    reasoned_words = set(_content_words(reasoned))
    missing = []
    for turn in report["turns"]:
        heard = set(_content_words(turn["asr_text"]))
        for sentence in _sentences(turn["debtor_text"]):
            words = _content_words(sentence)
            # Whisper may mishear a word; a sentence that never arrived loses all of them.
            if sum(w in heard for w in words) < 0.6 * len(words) or not any(
                w in reasoned_words for w in words
            ):
                missing.append((turn["negotiation"], turn["turn"], sentence, turn["asr_text"]))
    assert missing == [], missing


def test_every_offer_reaches_the_reasoning_node(run_in_parts):
    report, _ = run_in_parts
    offers = dict(LINES)
    lost = []
    for turn in report["turns"]:
        offer = offers[turn["debtor_text"]]
        finished = turn["intent"] == "accept"  # the agent took the offer before: nothing left to hear
        if offer is not None and not finished and turn["debtor_offer_days"] != offer:
            lost.append(
                (turn["negotiation"], turn["turn"], offer, turn["debtor_offer_days"], turn["asr_text"])
            )
    assert lost == [], lost


def test_no_reply_is_timed_before_the_debtor_has_finished(run_in_parts):
    report, _ = run_in_parts
    for turn in report["turns"]:
        if "time_to_first_audio_s" in turn["timings_s"]:
            assert turn["timings_s"]["time_to_first_audio_s"] > 0, turn
