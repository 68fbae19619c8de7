"""Another process that subscribes to debtor_emotion, as a robot's face or logger would; prints one
JSON line per message and exits after the given number of seconds or messages.

Usage: emotion_listener.py TOPIC SECONDS MESSAGES [matched]; with `matched`, the {"ready": true}
line comes once the subscription has matched a publisher (nothing published after it is lost)."""

import json
import sys
import time

import rclpy
from rclpy.node import Node

from eq_negotiator_interfaces.msg import EmotionState


def main() -> int:
    topic, seconds, wanted = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    rclpy.init()
    node = Node("emotion_listener")
    count = 0

    def on_message(message: EmotionState) -> None:
        nonlocal count
        count += 1
        print(
            json.dumps(
                {
                    "turn": message.turn,
                    "session_id": message.session_id,
                    "dominant": message.dominant_emotion,
                    "probs": list(map(float, message.emotion_probs)),
                    "belief": list(map(float, message.hidden_state_belief)),
                }
            ),
            flush=True,
        )

    subscription = node.create_subscription(EmotionState, topic, on_message, 20)
    if sys.argv[4:] == ["matched"]:
        deadline = time.monotonic() + seconds
        while subscription.get_publisher_count() == 0 and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
    print(json.dumps({"ready": True}), flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and count < wanted:
        rclpy.spin_once(node, timeout_sec=0.2)
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
