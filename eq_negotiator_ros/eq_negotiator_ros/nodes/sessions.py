"""Which session a node answers, and what it has already answered: session filtering
(CurrentSession, from negotiation_state) and the progress record a restarted node reads
(HandledRecord), so two sessions never mix replies and a latched message is answered once."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Optional

from rclpy.node import Node

# How long a message of a session that negotiation_state has not named yet waits for it.
SESSION_WAIT_S = 3.0


class CurrentSession:
    """The session that negotiation_state names: the only one a node answers. Messages of any
    other session (an aborted one, or another graph's that shares these topics) are dropped, so
    two sessions never mix replies. The reasoning node publishes the state before the directive,
    but topics are not ordered between each other: a message of a session not named yet waits a
    little for the state that names it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._session_id: Optional[str] = None  # None = no state received yet

    def update(self, session_id: str) -> None:
        with self._changed:
            self._session_id = session_id
            self._changed.notify_all()

    @property
    def session_id(self) -> Optional[str]:
        return self._session_id

    def admits(self, session_id: str, wait_s: float) -> bool:
        """True when session_id is (or within wait_s becomes) the current session."""
        deadline = time.monotonic() + wait_s
        with self._changed:
            while self._session_id != session_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True


class HandledRecord:
    """The last (session, position) a node finished handling, kept in a small file under the run
    directory, so that a restarted node can tell a message it already handled (delivered again by a
    latched topic) from one it had not finished when it died. A file that cannot be read or written
    makes the node answer again rather than stay silent (and it says so)."""

    def __init__(self, node: Node, run_dir: Path):
        namespace = node.get_namespace().strip("/").replace("/", "_") or "root"
        self.path = Path(run_dir) / "progress" / f"{namespace}.{node.get_name()}.json"
        self._logger = node.get_logger()
        self.session_id, self.position = "", ()
        self._write_failed = False
        try:
            data = json.loads(self.path.read_text())
            self.session_id, self.position = str(data["session_id"]), tuple(int(p) for p in data["position"])
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as error:
            self._logger.warning(f"progress file {self.path} unreadable ({error}); starting without it")

    def handled(self, session_id: str, position: tuple[int, ...]) -> bool:
        return bool(session_id) and session_id == self.session_id and tuple(position) <= self.position

    def record(self, session_id: str, position: tuple[int, ...]) -> None:
        self.session_id, self.position = session_id, tuple(position)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps({"session_id": session_id, "position": list(position)}))
            os.replace(partial, self.path)  # atomic: a crash leaves the old record or the new one
        except OSError as error:
            if not self._write_failed:  # once: the node goes on, only a restart could repeat a reply
                self._logger.warning(
                    f"cannot write {self.path}: {error}; after a restart the latest "
                    f"message may be handled twice"
                )
            self._write_failed = True
