"""The reasoning node (a separate process, real DDS, its SQLite store): an utterance that continues
the turn answered last (the ASR joined a part said after a pause to the part before, keeping that
part's start_time) replaces that turn: the session answers the whole text once, under a new
directive number, and keeps one record of it; an utterance that starts after the last one ends is
a turn of its own."""

import contextlib
import json
import sqlite3
import threading
import time

import pytest

rclpy = pytest.importorskip("rclpy")
from builtin_interfaces.msg import Time  # noqa: E402
from rclpy.node import Node  # noqa: E402

from eq_negotiator_interfaces.msg import CreditorDirective, NegotiationState, Utterance  # noqa: E402
from eq_negotiator_interfaces.srv import StartSession  # noqa: E402
from eq_negotiator_ros.graph.runner import NodeGraph  # noqa: E402
from eq_negotiator_ros.nodes import topics  # noqa: E402

pytestmark = pytest.mark.integration
NAMESPACE = "/reasoning_continuation_test"


def _utterance(text: str, start_s: float, end_s: float) -> Utterance:
    def stamp(seconds: float) -> Time:
        return Time(sec=int(seconds), nanosec=int((seconds % 1) * 1e9))

    return Utterance(text=text, final=True, confidence=0.9, start_time=stamp(start_s), end_time=stamp(end_s))


def test_a_continued_turn_is_answered_once_as_a_whole(tmp_path):
    store = tmp_path / "sessions.sqlite"
    with reasoning_graph(tmp_path, store) as (wait, speech_pub, directives, states, start):
        session = start()
        speech_pub.publish(_utterance("Understood.", 10.0, 11.0))
        assert wait(lambda: any(d.session_id == session and d.turn == 1 for d in directives))
        # The rest of the turn, said after a pause and joined to its first part by the ASR.
        whole = "Understood. How about 90 days? I can't even pay my staff."
        speech_pub.publish(_utterance(whole, 10.0, 15.5))
        assert wait(lambda: any(d.session_id == session and d.turn == 2 for d in directives))
        answer = next(d for d in directives if d.session_id == session and d.turn == 2)
        assert answer.debtor_text == whole
        # A new turn: it starts after the last one ended.
        speech_pub.publish(_utterance("Please, I need more time.", 20.0, 22.0))
        assert wait(lambda: any(d.session_id == session and d.turn == 3 for d in directives))
        assert wait(lambda: states and states[-1].session_id == session and states[-1].turn == 2)
        # The offer of the continued part reached the session.
        assert states[-1].debtor_offer_days == 90
    records = _records(store, session)
    # One record per turn as the debtor said it: the first part alone is not kept.
    assert [r["debtor_text"] for r in records] == [whole, "Please, I need more time."]
    assert [r["turn"] for r in records] == [2, 3]


def test_a_continuation_can_take_back_the_agreement_its_first_part_made(tmp_path):
    store = tmp_path / "sessions.sqlite"
    with reasoning_graph(tmp_path, store) as (wait, speech_pub, directives, states, start):
        session = start()
        opening = next(d for d in directives if d.session_id == session and d.turn == 0)
        first = f"Okay, I accept {opening.offer_days} days."
        speech_pub.publish(_utterance(first, 10.0, 12.0))
        assert wait(lambda: states and states[-1].session_id == session and states[-1].phase == "agreed")
        whole = f"{first} Actually no, I need 60 days."
        speech_pub.publish(_utterance(whole, 10.0, 15.0))
        assert wait(lambda: any(d.session_id == session and d.turn == 2 for d in directives))
        assert wait(lambda: states[-1].phase == "negotiating" and states[-1].debtor_offer_days == 60)
    assert [r["debtor_text"] for r in _records(store, session)] == [whole]


def _records(store, session: str) -> list[dict]:
    with sqlite3.connect(store) as connection:
        (data,) = connection.execute("SELECT data FROM sessions WHERE session_id = ?", (session,)).fetchone()
    return json.loads(data)["records"]


@contextlib.contextmanager
def reasoning_graph(tmp_path, store):
    logs: list[str] = []
    graph = NodeGraph(
        {"namespace": NAMESPACE, "use_mic": "false"},
        nodes=["eq_reasoning_node"],
        overrides={
            "session.store_path": str(store),
            "run_dir": str(tmp_path),
            "eq.learning.state_path": str(tmp_path / "learned.json"),
        },
        on_output=lambda name, line: logs.append(line),
    )
    graph.start()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("reasoning_continuation_tester", namespace=NAMESPACE, context=context)
    directives: list[CreditorDirective] = []
    states: list[NegotiationState] = []
    node.create_subscription(
        CreditorDirective, topics.DIRECTIVE, directives.append, topics.DIRECTIVE_SUBSCRIBER_QOS
    )
    node.create_subscription(NegotiationState, topics.NEGOTIATION_STATE, states.append, topics.LATCHED_QOS)
    speech_pub = node.create_publisher(Utterance, topics.SPEECH, topics.RELIABLE_QOS)
    client = node.create_client(StartSession, topics.START_SESSION)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()

    def wait(predicate, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while not predicate() and time.monotonic() < deadline:
            graph.check_alive()
            time.sleep(0.05)
        return predicate()

    def start() -> str:
        assert wait(lambda: client.service_is_ready() and speech_pub.get_subscription_count() > 0, 180), logs
        future = client.call_async(StartSession.Request(scenario_id=""))
        assert wait(lambda: future.done()) and future.result().success, logs[-20:]
        session = future.result().session_id
        assert wait(lambda: any(d.session_id == session and d.turn == 0 for d in directives))
        return session

    try:
        yield wait, speech_pub, directives, states, start
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        rclpy.shutdown(context=context)
        graph.stop()
