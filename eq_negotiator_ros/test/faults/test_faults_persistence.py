"""Persistence faults through the real reasoning node (another process, real DDS, real SQLite):
a learning file that cannot be written or has a field of the wrong type, a session store locked by
another process, unopenable, or holding a row that is not a session. In every case the node stays
up, answers, says what is wrong in /diagnostics, and loses no finished turn."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest

pytest.importorskip("rclpy")

from eq_negotiator_ros.config import load_config  # noqa: E402
from eq_negotiator_ros.store import SessionStore  # noqa: E402

LINES = (
    "I lost my job last month and I cannot pay all of this now.",
    "Could we make it ninety days? I really need the time.",
    "Alright, maybe eighty days then.",
)
LOCK_TIMEOUT_S = 0.5
LOCK_ATTEMPTS = 2


def base_overrides(tmp_path, **changes) -> dict:
    overrides = {
        "session.store_path": str(tmp_path / "sessions.sqlite"),
        "eq.learning.state_path": str(tmp_path / "learned.json"),
        "session.store_lock_timeout_s": LOCK_TIMEOUT_S,
        "session.store_lock_attempts": LOCK_ATTEMPTS,
    }
    overrides.update(changes)
    return overrides


def blocked_path(tmp_path, name: str):
    """A path whose folder is a regular file: no one can create it, root included (chmod would
    not stop root)."""
    blocker = tmp_path / f"{name}_is_a_file"
    blocker.write_text("a regular file where a folder should be")
    return blocker / name


# The store is read with plain sqlite3, as another tool would (and as the rows are written below).
def stored_records(store_path, session_id: str) -> list:
    with sqlite3.connect(str(store_path), timeout=10) as db:
        row = db.execute("SELECT data FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
    return json.loads(row[0])["records"] if row else []


def stored_phases(store_path) -> dict:
    with sqlite3.connect(str(store_path), timeout=10) as db:
        return dict(db.execute("SELECT session_id, phase FROM sessions").fetchall())


class StoreLocker:
    """Another process holding the store's write lock (BEGIN EXCLUSIVE) until release()."""

    SCRIPT = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
        "db.execute('ROLLBACK')\n"
    )

    def __init__(self, path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=10)


def assert_alive(process) -> None:
    assert process.alive, f"the reasoning node died:\n{process.output()}"


def test_unwritable_learning_file_after_a_finished_negotiation(reasoning_node, tmp_path):
    learned = blocked_path(tmp_path, "learned.json")
    # A short utterance limit: the negotiation ends (failed) after the second debtor turn, and the
    # node then saves what it learned: to a path it cannot write.
    process, client = reasoning_node(
        base_overrides(
            tmp_path,
            **{
                "eq.learning.state_path": str(learned),
                "offer.max_utterances": 4,
            },
        )
    )
    started = client.start_session()
    assert started is not None and started.success, started
    for line in LINES[:2]:
        assert client.say(line) is not None, process.output()
    assert client.state.phase in ("failed", "agreed")  # finished either way
    reported = client.spin_until(lambda: "cannot save the learned model" in process.output(), 15)
    assert reported, process.output()
    assert_alive(process)
    diagnostics = client.latest_persistence()
    assert diagnostics["persistence"].startswith("degraded (") and str(learned) in diagnostics["persistence"]
    assert diagnostics["level"] == 1  # WARN
    # No finished turn is lost: both are in the store with the final phase.
    assert len(stored_records(tmp_path / "sessions.sqlite", started.session_id)) == 2
    assert stored_phases(tmp_path / "sessions.sqlite")[started.session_id] == client.state.phase
    # And it negotiates on: a new session answers. Once the folder can be made, the next finished
    # negotiation saves what both taught (kept in memory meanwhile) and the warning clears.
    again = client.start_session()
    assert again is not None and again.success
    learned.parent.unlink()
    learned.parent.mkdir()
    for line in LINES[:2]:
        assert client.say(line) is not None, process.output()
    assert client.spin_until(lambda: learned.exists(), 15), process.output()
    assert json.loads(learned.read_text())["episodes"] == 2
    assert client.spin_until(lambda: client.diagnostics and client.diagnostics[-1]["persistence"] == "ok", 10)
    assert_alive(process)


def test_forgetting_a_learning_file_that_cannot_be_removed(reasoning_node, tmp_path):
    learned = tmp_path / "learned.json"
    learned.mkdir()  # a folder where the file should be: it can be neither read nor removed
    process, client = reasoning_node(base_overrides(tmp_path))
    assert "cannot be read" in client.latest_persistence()["persistence"]
    started = client.start_session()
    assert started is not None and started.success
    reset = client.reset_session(forget_learning=True)
    assert reset is not None, f"no reply to reset_session:\n{process.output()}"
    assert not reset.success and str(learned) in reset.message and "not forgotten" in reset.message
    assert client.spin_until(lambda: client.state.phase == "idle", 10)
    assert_alive(process)
    assert client.start_session().success
    assert client.say(LINES[0]) is not None


def test_learning_file_with_a_field_of_the_wrong_type(reasoning_node, tmp_path):
    from eq_negotiator_ros.eq.learning import LearnedModel

    learned = tmp_path / "learned.json"
    data = LearnedModel.from_priors(load_config().eq.model).to_dict()
    data["sequences"] = 5
    learned.write_text(json.dumps(data))
    process, client = reasoning_node(base_overrides(tmp_path, **{"offer.max_utterances": 4}))
    diagnostics = client.latest_persistence()
    assert "unreadable" in diagnostics["persistence"] and "published priors" in diagnostics["persistence"]
    assert diagnostics["level"] == 1
    started = client.start_session()
    assert started is not None and started.success
    for line in LINES[:2]:
        assert client.say(line) is not None, process.output()
    assert client.state.phase in ("failed", "agreed")  # finished either way
    # The finished negotiation overwrote the bad file with a valid one: no longer degraded.
    assert client.spin_until(lambda: json.loads(learned.read_text()).get("episodes") == 1, 15)
    assert client.spin_until(lambda: client.diagnostics and client.diagnostics[-1]["persistence"] == "ok", 10)
    assert_alive(process)


def test_store_locked_by_another_process(reasoning_node, tmp_path):
    store_path = tmp_path / "sessions.sqlite"
    process, client = reasoning_node(base_overrides(tmp_path))

    locker = StoreLocker(store_path)
    try:
        started = time.monotonic()
        refused = client.start_session()
        waited_s = time.monotonic() - started
    finally:
        locker.release()
    assert refused is not None, f"no reply to start_session:\n{process.output()}"
    assert not refused.success
    assert str(store_path) in refused.message and "locked" in refused.message
    assert waited_s >= LOCK_TIMEOUT_S * LOCK_ATTEMPTS  # retried with the busy timeout before refusing
    assert_alive(process)

    started = client.start_session()
    assert started is not None and started.success, started
    assert client.say(LINES[0]) is not None

    # Locked again mid-negotiation: the turn is answered and reported unsaved, then saved with the
    # next turn once the lock is gone.
    locker = StoreLocker(store_path)
    try:
        assert client.say(LINES[1]) is not None, process.output()
        assert client.state.turn == 2
        diagnostics = client.latest_persistence()
        assert "turn 2" in diagnostics["persistence"] and "locked" in diagnostics["persistence"]
        assert diagnostics["level"] == 1
    finally:
        locker.release()
    assert len(stored_records(store_path, started.session_id)) == 1  # turn 2 not saved yet
    assert client.say(LINES[2]) is not None
    assert [r["turn"] for r in stored_records(store_path, started.session_id)] == [1, 2, 3]
    assert client.spin_until(lambda: client.diagnostics and client.diagnostics[-1]["persistence"] == "ok", 10)
    assert_alive(process)


def test_store_rows_that_are_not_sessions_at_node_start(reasoning_node, tmp_path):
    from eq_negotiator_ros.eq.detection import make_detector
    from eq_negotiator_ros.eq.policy import make_policy
    from eq_negotiator_ros.eq.session import NegotiationSession
    from eq_negotiator_ros.eq.tracker import HiddenStateTracker
    from eq_negotiator_ros.sim.scenarios import load_scenarios

    # A session with one finished turn, saved as the node saves it ...
    config = load_config()
    policy = make_policy("eq", config.eq)
    scenario = {s.scenario_id: s for s in load_scenarios(config.session.scenarios_path)}["crad_000"]
    tracker = HiddenStateTracker.from_config(config.eq, policy.model)
    session = NegotiationSession(scenario, config, policy, tracker, session_id="resumable")
    session.open()
    session.step(LINES[0], make_detector(config).detect(LINES[0], None))
    store_path = tmp_path / "sessions.sqlite"
    store = SessionStore(store_path)
    store.save("resumable", "crad_000", "negotiating", session.to_dict())
    store.close()
    # ... and, updated after it, rows that are not sessions: they are read first.
    later = time.time() + 60
    with sqlite3.connect(str(store_path)) as db:
        for offset_s, session_id, text in (
            (3, "not_json", "{half a row"),
            (2, "not_an_object", "[1, 2, 3]"),
            (1, "not_a_session", json.dumps({"version": -1})),
        ):
            db.execute(
                "INSERT INTO sessions VALUES (?, 'crad_000', 'negotiating', ?, ?, ?)",
                (session_id, text, later + offset_s, later + offset_s),
            )

    process, client = reasoning_node(base_overrides(tmp_path))
    # It resumed the good session where it was and negotiates on.
    assert client.state.session_id == "resumable" and client.state.turn == 1
    assert client.say(LINES[1]) is not None, process.output()
    assert client.state.turn == 2
    assert [r["turn"] for r in stored_records(store_path, "resumable")] == [1, 2]
    phases = stored_phases(store_path)
    assert {phases[s] for s in ("not_json", "not_an_object", "not_a_session")} == {"quarantined"}
    assert client.latest_persistence()["quarantined_sessions"] == "3"
    assert "quarantined" in process.output()
    assert_alive(process)


def test_store_path_that_cannot_be_opened(reasoning_node, tmp_path):
    store_path = blocked_path(tmp_path, "sessions.sqlite")
    process, client = reasoning_node(base_overrides(tmp_path, **{"session.store_path": str(store_path)}))
    diagnostics = client.latest_persistence()
    assert diagnostics["persistence"].startswith("degraded (")
    assert str(store_path) in diagnostics["persistence"]
    assert diagnostics["level"] == 1
    started = client.start_session()
    assert started is not None and started.success and "not saved" in started.message
    assert client.say(LINES[0]) is not None
    assert client.say(LINES[1]) is not None
    assert client.state.turn == 2
    assert_alive(process)
