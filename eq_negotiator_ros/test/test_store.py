"""The SQLite session store on a real SQLite file: locks held by another connection, rows that are
not a session, files that cannot be a store."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

from eq_negotiator_ros.store import QUARANTINED, SessionStore, SessionStoreError, SessionStoreLocked


def session_data(session_id: str, turns: int = 0) -> dict:
    return {"session_id": session_id, "records": [{"turn": t} for t in range(1, turns + 1)]}


def insert_raw(
    path, session_id: str, data_text, phase: str = "negotiating", updated_at: float | None = None
) -> None:
    """A row written by something other than SessionStore (a hand edit, a disk fault, an old version)."""
    now = time.time() if updated_at is None else updated_at
    with sqlite3.connect(str(path)) as db:
        db.execute(
            "INSERT INTO sessions (session_id, scenario_id, phase, data, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, "crad_000", phase, data_text, now, now),
        )


class ExclusiveLock:
    """Another connection holding the write lock (BEGIN EXCLUSIVE) until released."""

    def __init__(self, path):
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()


@pytest.fixture
def store(tmp_path):
    store = SessionStore(tmp_path / "sessions.sqlite", lock_timeout_s=0.2, lock_attempts=2)
    yield store
    store.close()


def test_save_and_load_round_trip(store):
    store.save("s1", "crad_000", "negotiating", session_data("s1", 2))
    assert store.load("s1") == session_data("s1", 2)
    assert store.latest_active() == ("s1", session_data("s1", 2))
    assert store.phases() == {"s1": "negotiating"}


def test_a_locked_store_is_retried_then_named_in_the_error(store):
    store.save("s1", "crad_000", "negotiating", session_data("s1"))
    lock = ExclusiveLock(store.path)
    try:
        started = time.monotonic()
        with pytest.raises(SessionStoreLocked) as caught:
            store.save("s1", "crad_000", "negotiating", session_data("s1", 1))
        waited_s = time.monotonic() - started
    finally:
        lock.release()
    message = str(caught.value)
    assert str(store.path) in message and "locked" in message and "session.store_lock_timeout_s" in message
    assert "2 attempts" in message
    assert waited_s >= 0.2 * 2  # each of the two attempts waited for the busy timeout
    # Nothing half-written, and the store works again once the lock is gone.
    assert store.load("s1") == session_data("s1")
    store.save("s1", "crad_000", "negotiating", session_data("s1", 1))
    assert store.load("s1") == session_data("s1", 1)


def test_a_lock_released_while_waiting_lets_the_write_through(tmp_path):
    store = SessionStore(tmp_path / "sessions.sqlite", lock_timeout_s=2.0, lock_attempts=3)
    lock = ExclusiveLock(store.path)
    releaser = threading.Timer(0.3, lock.release)
    releaser.start()
    try:
        store.save("s1", "crad_000", "negotiating", session_data("s1", 3))
    finally:
        releaser.join()
    assert store.load("s1") == session_data("s1", 3)
    store.close()


def test_set_phase_and_quarantine_are_retried_like_saves(store):
    store.save("s1", "crad_000", "negotiating", session_data("s1"))
    lock = ExclusiveLock(store.path)
    try:
        with pytest.raises(SessionStoreLocked):
            store.set_phase("s1", "aborted")
        with pytest.raises(SessionStoreLocked):
            store.quarantine("s1", "test")
    finally:
        lock.release()
    assert store.phases() == {"s1": "negotiating"}


def test_saving_a_new_session_aborts_the_one_it_replaces_in_the_same_transaction(store):
    store.save("old", "crad_000", "negotiating", session_data("old", 2))
    store.save("new", "crad_000", "negotiating", session_data("new"), replaces="old")
    assert store.phases() == {"old": "aborted", "new": "negotiating"}
    assert store.load("old") == session_data("old", 2)  # its turns are kept


@pytest.mark.parametrize("bad", ["{not json", "[1, 2, 3]", '"text"', "null", "", "\x00\xff"])
def test_a_row_that_is_not_a_session_is_quarantined_not_fatal(store, bad):
    store.save("good", "crad_000", "negotiating", session_data("good", 4))
    insert_raw(store.path, "bad", bad, updated_at=time.time() + 10)  # newer: read first
    seen = []
    latest = store.latest_active(on_quarantine=lambda sid, reason: seen.append((sid, reason)))
    assert latest == ("good", session_data("good", 4))
    assert [sid for sid, _ in seen] == ["bad"]
    assert "stored data is" in seen[0][1]
    assert store.phases() == {"good": "negotiating", "bad": QUARANTINED}
    assert "bad" in store.quarantined()
    assert store.load("bad") is None
    # Its data is kept for a person to look at.
    with sqlite3.connect(str(store.path)) as db:
        assert db.execute("SELECT data FROM sessions WHERE session_id = 'bad'").fetchone()[0] == bad
    # The next start finds nothing to quarantine.
    assert store.latest_active(on_quarantine=lambda *a: seen.append(a)) == ("good", session_data("good", 4))
    assert len(seen) == 1


def test_a_blob_row_is_quarantined(store):
    with sqlite3.connect(str(store.path)) as db:
        db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
            ("blob", "crad_000", "negotiating", b"\xff\xfe{", time.time(), time.time()),
        )
    assert store.latest_active() is None
    assert store.phases() == {"blob": QUARANTINED}


def test_excluded_sessions_are_skipped(store):
    store.save("a", "crad_000", "negotiating", session_data("a"))
    time.sleep(0.01)
    store.save("b", "crad_000", "negotiating", session_data("b"))
    assert store.latest_active()[0] == "b"
    assert store.latest_active(exclude={"b"})[0] == "a"
    assert store.latest_active(exclude={"a", "b"}) is None


def test_a_row_that_cannot_be_marked_is_still_skipped(store):
    insert_raw(store.path, "bad", "{not json")
    lock = ExclusiveLock(store.path)
    seen = []
    try:
        # WAL: reading goes on while another connection holds the write lock.
        assert store.latest_active(on_quarantine=lambda sid, reason: seen.append(reason)) is None
    finally:
        lock.release()
    assert "could not be marked" in seen[0] and "locked" in seen[0]
    assert store.phases() == {"bad": "negotiating"}  # marked on a later start


def test_a_store_under_a_regular_file_cannot_be_opened(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the store's folder should be")
    with pytest.raises(SessionStoreError) as caught:
        SessionStore(blocker / "sessions.sqlite")
    assert str(blocker / "sessions.sqlite") in str(caught.value)
    assert "session.store_path" in str(caught.value)


def test_a_file_that_is_not_a_database_cannot_be_opened(tmp_path):
    path = tmp_path / "sessions.sqlite"
    path.write_bytes(b"this is not a SQLite database, just some text that is long enough" * 20)
    with pytest.raises(SessionStoreError) as caught:
        SessionStore(path)
    assert str(path) in str(caught.value) and "session.store_path" in str(caught.value)
    assert not isinstance(caught.value, SessionStoreLocked)


def test_stored_json_is_compact_and_readable_by_other_tools(store):
    store.save("s1", "crad_000", "negotiating", session_data("s1", 1))
    with sqlite3.connect(str(store.path)) as db:
        text = db.execute("SELECT data FROM sessions").fetchone()[0]
    assert json.loads(text) == session_data("s1", 1)
