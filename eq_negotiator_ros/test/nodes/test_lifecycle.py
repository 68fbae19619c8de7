"""The managed-node base (nodes/lifecycle.py) and the reasoning node through their transitions, in
this process with real rclpy: a model is loaded on configure only, the node's topics and services
exist only while it is active, a failed load leaves it unconfigured and says why, and
/diagnostics reports the lifecycle state."""

from __future__ import annotations

import time

import pytest

rclpy = pytest.importorskip("rclpy")
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from lifecycle_msgs.srv import GetState  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.lifecycle import TransitionCallbackReturn  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from std_msgs.msg import String  # noqa: E402

from eq_negotiator_ros.nodes.lifecycle import ModelNode  # noqa: E402


class EchoModelNode(ModelNode):
    """A node whose 'model' upper-cases text: enough to watch the transitions."""

    def __init__(self, fail_load: bool = False, fail_warm_up: bool = False, **node_options):
        super().__init__("echo_model_node", config_of="asr_node", **node_options)
        self.fail_load, self.fail_warm_up = fail_load, fail_warm_up
        self.model = None
        self.unloads = 0
        self.warm_up_inputs: list[str] = []

    def load(self) -> None:
        if self.fail_load:
            raise FileNotFoundError("model file /nowhere/model.bin not found; set echo.model_path")
        self.model = str.upper

    def warm_up(self) -> None:
        # The throw-away inference goes through the loaded model, as a real request would.
        self.warm_up_inputs.append(self.model("warm up"))
        if self.fail_warm_up:
            raise RuntimeError("the model answered garbage to the warm-up")

    def unload(self) -> None:
        self.model = None
        self.unloads += 1

    def activate_interfaces(self) -> None:
        self.out = self.create_publisher(String, "echo_out", 10)
        self.create_subscription(
            String, "echo_in", lambda m: self.out.publish(String(data=self.model(m.data))), 10
        )


@pytest.fixture
def ros():
    context = rclpy.Context()
    rclpy.init(context=context)
    executor = SingleThreadedExecutor(context=context)
    probe = Node("lifecycle_probe", context=context)
    executor.add_node(probe)
    made = []

    def add(node):
        made.append(node)
        executor.add_node(node)
        return node

    yield context, executor, probe, add
    for node in made:
        executor.remove_node(node)
        node.destroy_node()
    executor.shutdown()
    probe.destroy_node()
    rclpy.shutdown(context=context)


def spin_until(executor, condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        executor.spin_once(timeout_sec=0.05)
    return condition()


def get_state(executor, probe, name: str) -> str:
    client = probe.create_client(GetState, f"/{name}/get_state")
    assert client.wait_for_service(timeout_sec=10.0)
    future = client.call_async(GetState.Request())
    executor.spin_until_future_complete(future, timeout_sec=10.0)
    probe.destroy_client(client)
    return future.result().current_state.label


def test_transitions_load_the_model_and_make_the_interfaces_only_while_active(ros):
    context, executor, probe, add = ros
    node = add(EchoModelNode(context=context))
    diagnostics: list[dict[str, str]] = []
    probe.create_subscription(
        DiagnosticArray,
        "/diagnostics",
        lambda m: diagnostics.extend(
            {v.key: v.value for v in s.values} for s in m.status if s.name.endswith("echo_model_node")
        ),
        10,
    )

    assert get_state(executor, probe, "echo_model_node") == "unconfigured"
    assert node.model is None and probe.count_publishers("/echo_out") == 0

    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.model is not None and probe.count_publishers("/echo_out") == 0
    assert get_state(executor, probe, "echo_model_node") == "inactive"

    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert get_state(executor, probe, "echo_model_node") == "active"
    replies: list[str] = []
    probe.create_subscription(String, "/echo_out", lambda m: replies.append(m.data), 10)
    send = probe.create_publisher(String, "/echo_in", 10)
    assert spin_until(executor, lambda: send.get_subscription_count() > 0)
    send.publish(String(data="pay in thirty days"))
    assert spin_until(executor, lambda: replies == ["PAY IN THIRTY DAYS"])
    assert spin_until(executor, lambda: any(d.get("lifecycle_state") == "active" for d in diagnostics))

    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert spin_until(
        executor,
        lambda: probe.count_publishers("/echo_out") == 0 and probe.count_subscribers("/echo_in") == 0,
    )
    assert node.model is not None  # still loaded: activating again is quick
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert spin_until(executor, lambda: probe.count_publishers("/echo_out") == 1)
    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
    assert node.model is None and node.unloads == 1
    assert get_state(executor, probe, "echo_model_node") == "unconfigured"
    assert spin_until(
        executor, lambda: diagnostics and diagnostics[-1].get("lifecycle_state") == "unconfigured"
    )


def test_a_model_that_cannot_load_leaves_the_node_unconfigured_and_says_why(ros, capfd):
    context, executor, probe, add = ros
    node = add(EchoModelNode(fail_load=True, context=context))
    assert not node.bring_up()
    assert get_state(executor, probe, "echo_model_node") == "unconfigured"
    assert node.lifecycle_state == "unconfigured"
    assert "set echo.model_path" in capfd.readouterr().err


def test_the_reasoning_node_offers_its_services_only_while_active(ros, tmp_path):
    from eq_negotiator_interfaces.msg import CreditorDirective, ReplyChunk, Utterance
    from eq_negotiator_interfaces.srv import StartSession
    from eq_negotiator_ros.nodes.eq_reasoning_node import EqReasoningNode

    context, executor, probe, add = ros
    overrides = [
        Parameter("run_dir", value=str(tmp_path)),
        Parameter("session.store_path", value=str(tmp_path / "sessions.sqlite")),
        Parameter("eq.learning.state_path", value=str(tmp_path / "learned.json")),
    ]
    node = add(EqReasoningNode(context=context, parameter_overrides=overrides))
    assert not any(name == "/start_session" for name, _ in probe.get_service_names_and_types())
    assert node.bring_up()
    client = probe.create_client(StartSession, "/start_session")
    assert client.wait_for_service(timeout_sec=10.0)
    future = client.call_async(StartSession.Request())
    executor.spin_until_future_complete(future, timeout_sec=10.0)
    assert future.result().success, future.result().message
    assert node.session is not None and (tmp_path / "sessions.sqlite").is_file()
    session_id = future.result().session_id

    # The next directive carries the creditor's name and the conversation: what the agent said
    # (heard on `reply`) and the debtor's answer.
    directives: list[CreditorDirective] = []
    probe.create_subscription(CreditorDirective, "/directive", directives.append, 10)
    reply = probe.create_publisher(ReplyChunk, "/reply", 10)
    speech = probe.create_publisher(Utterance, "/speech", 10)
    assert spin_until(
        executor, lambda: reply.get_subscription_count() > 0 and speech.get_subscription_count() > 0
    )
    reply.publish(
        ReplyChunk(
            session_id=session_id, turn=0, index=0, text="Hello, this is about your balance.", final=True
        )
    )
    assert spin_until(executor, lambda: node.agent_sentences.get(0))
    speech.publish(Utterance(text="I can pay in ninety days.", final=True))
    assert spin_until(executor, lambda: any(d.turn == 1 for d in directives))
    directive = next(d for d in directives if d.turn == 1)
    assert directive.creditor_name == node.session.scenario.creditor_name
    assert list(zip(directive.history_speakers, directive.history_texts)) == [
        ("agent", "Hello, this is about your balance."),
        ("debtor", "I can pay in ninety days."),
    ]

    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert spin_until(executor, lambda: not client.service_is_ready())
    assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
    assert node.store is None and node.session is None


def test_a_model_node_declares_the_sections_it_reads_with_descriptions(ros):
    from eq_negotiator_ros.nodes.asr_node import AsrNode

    context, _executor, _probe, add = ros
    node = add(AsrNode(context=context))  # unconfigured: nothing loaded, parameters declared
    # rclpy's own parameters aside (use_sim_time, start_type_description_service on Jazzy and later)
    names = set(node.list_parameters([], 0).names) - {"use_sim_time", "start_type_description_service"}
    assert {name.split(".")[0] for name in names} == {"asr", "audio", "run_dir", "autostart"}
    described = node.describe_parameters(sorted(names))
    assert all(d.description for d in described), [d.name for d in described if not d.description]
    assert node.config.asr.language == node.get_parameter("asr.language").value


def test_configure_runs_one_warm_up_inference_with_the_loaded_model(ros):
    context, executor, probe, add = ros
    node = add(EchoModelNode(context=context))
    assert node.warm_up_inputs == []  # nothing runs before configure
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.warm_up_inputs == ["WARM UP"]
    assert node.warm_up_problem == "" and node.warm_up_s >= 0.0
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert node.warm_up_inputs == ["WARM UP"]  # activating does not warm up again


def test_a_failed_warm_up_is_a_warning_in_diagnostics_not_a_dead_node(ros, capfd):
    context, executor, probe, add = ros
    node = add(EchoModelNode(fail_warm_up=True, context=context))
    statuses = []
    probe.create_subscription(
        DiagnosticArray,
        "/diagnostics",
        lambda m: statuses.extend(s for s in m.status if s.name.endswith("echo_model_node")),
        10,
    )
    assert node.bring_up()
    assert node.lifecycle_state == "active" and node.model is not None
    assert "garbage" in node.warm_up_problem
    assert "warm-up failed" in capfd.readouterr().err

    def warned() -> bool:
        return any(
            s.level == DiagnosticStatus.WARN
            and "warm-up failed" in s.message
            and {v.key: v.value for v in s.values}.get("warm_up", "").startswith("RuntimeError")
            for s in statuses
        )

    assert spin_until(executor, warned)
