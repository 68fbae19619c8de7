"""The SLM node (a separate process, the real model, real DDS): a newer directive of the same session
supersedes the one being phrased (the reasoning node answered a turn said in parts again, whole):
the old reply stops before its next sentence, the new one is phrased in full."""

import threading
import time

import pytest

rclpy = pytest.importorskip("rclpy")
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.node import Node  # noqa: E402

from eq_negotiator_interfaces.msg import NegotiationState, ReplyChunk  # noqa: E402
from eq_negotiator_ros.eq.records import Directive, Offer  # noqa: E402
from eq_negotiator_ros.graph.runner import NodeGraph  # noqa: E402
from eq_negotiator_ros.nodes import conversions, topics  # noqa: E402

pytestmark = pytest.mark.integration
NAMESPACE = "/slm_supersede_test"
SESSION = "supersede01"


def _directive(turn: int, days: int, debtor_text: str):
    directive = Directive(
        session_id=SESSION,
        turn=turn,
        creditor_emotion="neutral",
        policy_branch="wsls_stay",
        intent="counter",
        offer=Offer(days=days),
        accepts_debtor_offer=False,
        persona="neutral",
        temperature=0.1,
        debtor_text=debtor_text,
        creditor_name="the lender",
    )
    return conversions.directive_to_message(directive, [(conversions.DEBTOR, debtor_text)])


def test_a_newer_directive_stops_the_older_reply_and_is_answered_in_full(tmp_path):
    logs: list[str] = []
    graph = NodeGraph(
        {"namespace": NAMESPACE, "use_mic": "false"},
        nodes=["slm_node"],
        overrides={"run_dir": str(tmp_path)},
        on_output=lambda name, line: logs.append(line),
    )
    graph.start()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("slm_supersede_tester", namespace=NAMESPACE, context=context)
    replies: list[ReplyChunk] = []
    superseded = []

    def on_diagnostics(message: DiagnosticArray) -> None:
        for status in message.status:
            values = {v.key: v.value for v in status.values}
            if "superseded_directives" in values:
                superseded.append(int(values["superseded_directives"]))

    node.create_subscription(ReplyChunk, topics.REPLY, replies.append, topics.REPLY_QOS)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 50)
    state_pub = node.create_publisher(NegotiationState, topics.NEGOTIATION_STATE, topics.LATCHED_QOS)
    directive_pub = node.create_publisher(type(_directive(1, 20, "")), topics.DIRECTIVE, topics.DIRECTIVE_QOS)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()

    def wait(predicate, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not predicate() and time.monotonic() < deadline:
            graph.check_alive()
            time.sleep(0.02)
        return predicate()

    try:
        assert wait(lambda: directive_pub.get_subscription_count() > 0 and superseded, 180), logs[-20:]
        state_pub.publish(NegotiationState(session_id=SESSION, phase="negotiating"))
        directive_pub.publish(_directive(1, 20, "I can pay in ninety days."))
        # The first directive's reply has begun: the model is phrasing it when the newer one comes.
        assert wait(lambda: any(r.turn == 1 for r in replies), 60), logs[-20:]
        directive_pub.publish(_directive(2, 25, "I can pay in ninety days. Please, my family depends on me."))
        assert wait(lambda: any(r.turn == 2 and r.final for r in replies), 60), logs[-20:]
        time.sleep(2.5)  # anything left of turn 1 would come by now; diagnostics once a second
        first = [r for r in replies if r.turn == 1]
        assert not any(r.final for r in first), [r.text for r in first]
        assert "25 days" in " ".join(r.text for r in replies if r.turn == 2)
        assert superseded[-1] >= 1
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        rclpy.shutdown(context=context)
        graph.stop()
