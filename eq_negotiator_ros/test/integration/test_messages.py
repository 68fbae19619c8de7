"""Every custom message crosses real DDS between two processes."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.node import Node  # noqa: E402

from eq_negotiator_interfaces.msg import (  # noqa: E402
    AudioChunk,
    CreditorDirective,
    EmotionState,
    NegotiationState,
    ReplyChunk,
    Utterance,
)

ECHO = Path(__file__).with_name("message_echo.py")


def sample_messages() -> dict:
    audio = AudioChunk(
        samples=[0.0, 0.5, -0.5], sample_rate_hz=16000, channels=1, turn=2, end_of_segment=True
    )
    audio.header.frame_id = "wav"
    speech = Utterance(
        text="I can pay in ninety days",
        final=True,
        confidence=0.9,
        language="en",
        energy_dbfs=-20.5,
        pitch_hz=180.0,
        pitch_variability_semitones=2.5,
        speaking_rate_wps=2.8,
    )
    emotion = EmotionState(
        turn=3,
        session_id="s1",
        emotion_labels=["joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"],
        emotion_probs=[0.05, 0.6, 0.1, 0.1, 0.05, 0.05, 0.05],
        dominant_emotion="sadness",
        confidence=0.6,
        valence=-0.4,
        arousal=0.3,
        hidden_state_labels=["cooperative", "confrontational", "distressed", "strategic"],
        hidden_state_belief=[0.2, 0.1, 0.6, 0.1],
        most_likely_hidden_state="distressed",
        source="trained",
    )
    directive = CreditorDirective(
        session_id="s1",
        turn=3,
        creditor_emotion="sadness",
        policy_branch="hmm",
        intent="counter",
        offer_days=45,
        upfront_amount=200.0,
        currency="USD",
        persona="empathetic",
        temperature=0.6,
        debtor_text="I lost my job",
    )
    reply = ReplyChunk(
        session_id="s1",
        turn=3,
        index=0,
        text="I understand.",
        final=False,
        from_fallback=False,
        emotion="sadness",
    )
    state = NegotiationState(
        session_id="s1",
        scenario_id="crad_000",
        turn=3,
        utterances=7,
        phase="negotiating",
        creditor_offer_days=45,
        debtor_offer_days=90,
        creditor_target_days=12,
        outstanding_balance=15700.0,
    )
    return {
        "audio": (AudioChunk, audio),
        "speech": (Utterance, speech),
        "emotion": (EmotionState, emotion),
        "directive": (CreditorDirective, directive),
        "reply": (ReplyChunk, reply),
        "state": (NegotiationState, state),
    }


def test_every_message_reaches_a_subscriber_in_another_process():
    messages = sample_messages()
    echo = subprocess.Popen(
        [sys.executable, str(ECHO), "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("message_publisher", context=context)
    publishers = {
        topic: node.create_publisher(kind, f"/echo_test/{topic}", 10) for topic, (kind, _) in messages.items()
    }
    try:
        deadline = time.monotonic() + 45
        while echo.poll() is None and time.monotonic() < deadline:
            for topic, (_, message) in messages.items():
                publishers[topic].publish(message)
            time.sleep(0.2)
        out, err = echo.communicate(timeout=10)
    finally:
        if echo.poll() is None:
            echo.kill()
        node.destroy_node()
        rclpy.shutdown(context=context)
    assert echo.returncode == 0, f"subscriber did not receive every message:\n{out}\n{err}"
    received = {
        line["topic"]: line["fields"] for line in map(json.loads, out.splitlines()) if "topic" in line
    }
    assert set(received) == set(messages)
    assert received["speech"]["text"] == "I can pay in ninety days"
    assert received["emotion"]["dominant_emotion"] == "sadness"
    assert received["emotion"]["hidden_state_belief"] == pytest.approx([0.2, 0.1, 0.6, 0.1])
    assert received["directive"]["offer_days"] == 45
    assert received["directive"]["upfront_amount"] == 200.0
    assert received["reply"]["text"] == "I understand."
    assert received["state"]["phase"] == "negotiating"
    assert received["audio"]["samples"] == pytest.approx([0.0, 0.5, -0.5])
    assert received["audio"]["sample_rate_hz"] == 16000
