"""Is the graph ready? Asked the ROS way: each model node's lifecycle state through
lifecycle_msgs/srv/GetState (`<node>/get_state`), `active` meaning its model is loaded and its
topics and services are up. Used by the demo driver, `eq-negotiator run` and the tests.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Optional

from lifecycle_msgs.srv import GetState
from rclpy.node import Node
from rclpy.task import Future

from ..graph import MODEL_NODES

# A GetState request that got no answer in this time is sent again (the server may have been a
# process that died, still known to discovery).
REQUEST_TIMEOUT_S = 2.0


class LifecycleStates:
    """The latest lifecycle state of some nodes of one namespace, asked without blocking: call
    poll() repeatedly while something spins `node` (an executor thread, or spin_once between polls)."""

    def __init__(self, node: Node, namespace: str, names: Iterable[str] = MODEL_NODES):
        prefix = "/" + namespace.strip("/") if namespace.strip("/") else ""
        self._clients = {name: node.create_client(GetState, f"{prefix}/{name}/get_state") for name in names}
        self._pending: dict[str, tuple[Future, float]] = {}
        self.states: dict[str, str] = {name: "unknown" for name in self._clients}

    def poll(self) -> dict[str, str]:
        now = time.monotonic()
        for name, client in self._clients.items():
            pending = self._pending.get(name)
            if pending is not None:
                future, sent_at = pending
                if future.done():
                    del self._pending[name]
                    result = future.result()
                    if result is not None:
                        self.states[name] = result.current_state.label
                    continue
                if now - sent_at < REQUEST_TIMEOUT_S:
                    continue
                client.remove_pending_request(future)
                del self._pending[name]
            if client.service_is_ready():
                self._pending[name] = (client.call_async(GetState.Request()), now)
        return dict(self.states)

    def all_active(self) -> bool:
        return all(state == "active" for state in self.poll().values())

    def not_active(self) -> dict[str, str]:
        return {name: state for name, state in self.states.items() if state != "active"}

    def wait_until_active(
        self,
        timeout_s: float,
        alive: Callable[[], None] = lambda: None,
        spin_once: Optional[Callable[[float], None]] = None,
    ) -> None:
        """Until every node answers `active`; alive() raises when the graph died meanwhile.
        spin_once(timeout_s) spins the node when no executor thread does."""
        deadline = time.monotonic() + timeout_s
        while not self.all_active():
            alive()
            if time.monotonic() > deadline:
                waiting = ", ".join(f"{name} ({state})" for name, state in self.not_active().items())
                raise TimeoutError(f"not active within {timeout_s:.0f} s: {waiting}")
            if spin_once is not None:
                spin_once(0.1)
            else:
                time.sleep(0.1)

    def close(self, node: Node) -> None:
        for client in self._clients.values():
            node.destroy_client(client)
