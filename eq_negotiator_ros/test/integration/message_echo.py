"""Subscriber process for test_messages.py: receives one message on each custom topic and prints
each as a JSON line, then exits (or exits 3 after a timeout)."""

import json
import sys
import time

import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from eq_negotiator_interfaces.msg import (
    AudioChunk,
    CreditorDirective,
    EmotionState,
    NegotiationState,
    ReplyChunk,
    Utterance,
)

TOPICS = {
    "audio": AudioChunk,
    "speech": Utterance,
    "emotion": EmotionState,
    "directive": CreditorDirective,
    "reply": ReplyChunk,
    "state": NegotiationState,
}


def summary(message) -> dict:
    fields = {}
    for name in message.get_fields_and_field_types():
        value = getattr(message, name)
        if hasattr(value, "get_fields_and_field_types"):
            continue
        fields[name] = list(value) if not isinstance(value, (str, int, float, bool)) else value
    return fields


def main() -> int:
    rclpy.init()
    node = Node("message_echo")
    received: dict[str, dict] = {}
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    for topic, message_type in TOPICS.items():
        node.create_subscription(
            message_type,
            f"/echo_test/{topic}",
            lambda message, topic=topic: received.setdefault(topic, summary(message)),
            qos,
        )
    print(json.dumps({"ready": True}), flush=True)
    deadline = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 30)
    while len(received) < len(TOPICS) and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    for topic, fields in sorted(received.items()):
        print(json.dumps({"topic": topic, "fields": fields}), flush=True)
    node.destroy_node()
    rclpy.shutdown()
    return 0 if len(received) == len(TOPICS) else 3


if __name__ == "__main__":
    sys.exit(main())
