"""The managed-node base of the four model nodes (ASR, EQ reasoning, SLM, TTS), as robot software
expects of a node that holds a heavy model (llama_ros, whisper_ros, ROS4HRI asr_vosk):

- unconfigured: parameters declared; /diagnostics reports the state; nothing loaded;
- configure (`load`, then `warm_up`): the model and what it needs are loaded; a failure leaves
  the node unconfigured and says why. Then one throw-away inference warms the model (first-call
  allocations, caches, lazy initialisation), so the first real turn is as fast as the others; its
  time is logged and shown in /diagnostics, and a warm-up failure is a warning, not a dead node;
- activate (`activate_interfaces`): publishers, subscriptions, services, timers and worker threads;
- deactivate (`deactivate_interfaces`): workers stopped, and every entity made by
  `activate_interfaces` destroyed, so an inactive node neither hears nor speaks;
- cleanup (`unload`): the model released.

A node started by `eq-negotiator run` or its own executable configures and activates itself
(parameter `autostart`, default true); the launch file sets autostart false and drives the same
transitions with launch_ros' LifecycleNode. Anyone waits for readiness with
lifecycle_msgs/srv/GetState (`<node>/get_state` answers `active`).
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Mapping

import rclpy
import rclpy.executors
from diagnostic_msgs.msg import DiagnosticStatus
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.client import Client
from rclpy.lifecycle import Node as LifecycleNode
from rclpy.lifecycle import State, TransitionCallbackReturn
from rclpy.publisher import Publisher
from rclpy.service import Service
from rclpy.subscription import Subscription
from rclpy.timer import Timer

from . import diagnostics
from .config_parameters import declare_config

DIAGNOSTICS_PERIOD_S = 2.0


class ModelNode(LifecycleNode):
    """Subclasses implement load, activate_interfaces and diagnostics; deactivate_interfaces and
    unload when they hold threads or resources beyond the entities and the model object."""

    def __init__(self, name: str, config_of: str = "", **node_options) -> None:
        """config_of: the node whose config sections this one declares (default: its own name)."""
        super().__init__(name, **node_options)
        self.lifecycle_state = "unconfigured"
        self.declare_parameter(
            "autostart",
            True,
            ParameterDescriptor(
                description="configure and activate on start (the launch file sets false and drives the "
                "transitions itself)"
            ),
        )
        self.config = declare_config(self, config_of or name)
        self.warm_up_s = 0.0
        self.warm_up_problem = ""  # why the last warm-up failed ("" = it ran, or none yet)
        self._active_entities: list[Any] = []
        self._diagnostics_pub = diagnostics.diagnostics_publisher(self)
        self.create_timer(DIAGNOSTICS_PERIOD_S, self._publish_diagnostics)

    # -- what a model node provides -------------------------------------------------------------

    def load(self) -> None:
        """Load the model (on configure). Raise with a message a person can act on."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """One throw-away inference with the loaded model (after load, on configure), so the first
        real request does not pay for the model's cold start. Raise when it fails: the node still
        configures, with a warning."""

    def activate_interfaces(self) -> None:
        """Create publishers, subscriptions, services, timers and workers (on activate)."""
        raise NotImplementedError

    def deactivate_interfaces(self) -> None:
        """Stop what activate_interfaces started beyond ROS entities (worker threads)."""

    def unload(self) -> None:
        """Release the model (on cleanup and shutdown)."""

    def diagnostics(self) -> tuple[str, Mapping[str, Any], bytes]:
        """(message, values, level) of this node's /diagnostics status while it is active."""
        return "active", {}, DiagnosticStatus.OK

    # -- transitions ------------------------------------------------------------------------------

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        try:
            self.load()
        except Exception as error:  # a missing model or an unreadable file: stay unconfigured, say why
            self.get_logger().error(f"configure failed: {type(error).__name__}: {error}")
            self.unload()
            return TransitionCallbackReturn.FAILURE
        self._warm_up()
        return self._entered("inactive")

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        before = self._entities()
        try:
            self.activate_interfaces()
        except Exception as error:
            self.get_logger().error(f"activate failed: {type(error).__name__}: {error}")
            self._active_entities = self._made_since(before)
            self._destroy_active_entities()
            return TransitionCallbackReturn.FAILURE
        self._active_entities = self._made_since(before)
        super().on_activate(state)
        return self._entered("active")

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        self._deactivate()
        super().on_deactivate(state)
        return self._entered("inactive")

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self.unload()
        return self._entered("unconfigured")

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self.release()
        return self._entered("finalized")

    def on_error(self, state: State) -> TransitionCallbackReturn:
        self.get_logger().error(f"error while {state.label}: back to unconfigured")
        self.release()
        return self._entered("unconfigured")

    def release(self) -> None:
        """Whatever the state: stop the interfaces and release the model (process exit)."""
        if self.lifecycle_state == "active":
            self._deactivate()
        if self.lifecycle_state != "unconfigured":
            self.unload()
        self.lifecycle_state = "finalized"

    def bring_up(self) -> bool:
        """Configure then activate (what autostart does); False when a transition failed."""
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            return False
        return self.trigger_activate() == TransitionCallbackReturn.SUCCESS

    # -- internals ------------------------------------------------------------------------------

    def _entered(self, state: str) -> TransitionCallbackReturn:
        self.lifecycle_state = state
        self.get_logger().info(f"lifecycle state: {state}")
        self._publish_diagnostics()
        return TransitionCallbackReturn.SUCCESS

    def _warm_up(self) -> None:
        started = time.perf_counter()
        self.warm_up_problem = ""
        try:
            self.warm_up()
        except Exception as error:  # a slower first turn is better than no node
            self.warm_up_problem = f"{type(error).__name__}: {error}"
            self.get_logger().warning(
                f"warm-up failed ({self.warm_up_problem}); the node works, its first request will be slower"
            )
        self.warm_up_s = time.perf_counter() - started
        if not self.warm_up_problem:
            self.get_logger().info(f"warm-up inference took {self.warm_up_s:.2f} s")

    def _deactivate(self) -> None:
        self.deactivate_interfaces()
        self._destroy_active_entities()
        self.lifecycle_state = "inactive"

    def _entities(self) -> dict[int, Any]:
        entities = [*self.publishers, *self.subscriptions, *self.services, *self.clients, *self.timers]
        return {id(entity): entity for entity in entities}

    def _made_since(self, before: dict[int, Any]) -> list[Any]:
        return [entity for key, entity in self._entities().items() if key not in before]

    def _destroy_active_entities(self) -> None:
        # rclpy has one destroy method per kind of entity.
        destroyers = (
            (Publisher, self.destroy_publisher),
            (Subscription, self.destroy_subscription),
            (Service, self.destroy_service),
            (Client, self.destroy_client),
            (Timer, self.destroy_timer),
        )
        for entity in self._active_entities:
            destroy = next(method for kind, method in destroyers if isinstance(entity, kind))
            destroy(entity)
        self._active_entities = []

    def _publish_diagnostics(self) -> None:
        if self.lifecycle_state == "active":
            message, values, level = self.diagnostics()
        else:
            message, values, level = self.lifecycle_state, {}, DiagnosticStatus.OK
        warm_up = {}
        if self.lifecycle_state in ("inactive", "active"):
            warm_up = {"warm_up_s": f"{self.warm_up_s:.2f}", "warm_up": self.warm_up_problem or "ok"}
            if self.warm_up_problem:
                message = f"{message}; warm-up failed: {self.warm_up_problem}"
                level = max(level, DiagnosticStatus.WARN)  # one-byte levels: OK < WARN < ERROR
        diagnostics.publish_diagnostics(
            self,
            self._diagnostics_pub,
            message,
            {"lifecycle_state": self.lifecycle_state, **values, **warm_up},
            level=level,
        )


def run_model_node(node_factory: Callable[[], ModelNode]) -> None:
    """Entry point of a model node: create it, bring it to active unless `autostart` is false
    (then a lifecycle manager, such as the launch file, drives it), spin until Ctrl-C or shutdown,
    release it. A node that cannot reach active exits with code 1: a supervisor sees a death."""

    def bring_up(node: ModelNode) -> bool:
        if node.get_parameter("autostart").value and not node.bring_up():
            node.get_logger().error(f"{node.get_name()} did not reach the active state; see the errors above")
            return False
        return True

    run_node(node_factory, bring_up)


def run_node(node_factory: Callable[[], Any], ready: Callable[[Any], bool] = lambda node: True) -> None:
    """Entry point of any node of the package: init, create, spin until Ctrl-C or shutdown (when
    ready(node) says it may run), then node.release() and clean up; exit code 1 when not ready."""
    rclpy.init()
    node = None
    exit_code = 0
    try:
        node = node_factory()
        if ready(node):
            rclpy.spin(node)
        else:
            exit_code = 1
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.release()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    if exit_code:
        sys.exit(exit_code)
