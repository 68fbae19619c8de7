"""SQLite store of negotiation sessions, so that a restarted reasoning node resumes where it was.

One row per session: its phase and the session's own `to_dict()` as JSON, written after every turn
inside a transaction (a crash between turns loses nothing; a crash inside a turn loses that turn
only). Standard library only.

Failures are errors a caller can act on, never a bare sqlite3 traceback:

* another connection holding the write lock: each attempt waits up to session.store_lock_timeout_s
  (SQLite's busy timeout), the statement is retried session.store_lock_attempts times, then
  SessionStoreLocked names the file and the lock;
* anything else (file not openable, not a database, disk full): SessionStoreError names the file;
* a row whose data is not a JSON object (hand edits, a disk fault, another program) is never
  fatal: reading it moves it out of the active sessions (phase 'quarantined', the reason in the
  quarantine table, the data kept for a person to look at).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Collection, Optional, TypeVar

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id  TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    phase       TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_update ON sessions (updated_at);
CREATE TABLE IF NOT EXISTS quarantine (
    session_id     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    quarantined_at REAL NOT NULL
);
"""

ACTIVE_PHASES = ("negotiating",)
QUARANTINED = "quarantined"
# Pause between two attempts at a locked store: the busy timeout already waited, this only lets a
# writer that is about to commit finish (SQLite answers some lock conflicts at once, without waiting).
_RETRY_PAUSE_S = 0.05
_LOCK_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)

T = TypeVar("T")


class SessionStoreError(RuntimeError):
    """The store file cannot be opened, read or written; the message names the file and the setting."""


class SessionStoreLocked(SessionStoreError):
    """Another connection kept the store locked through every attempt; trying again later may work."""


class SessionStore:
    def __init__(self, path: Path | str, lock_timeout_s: float = 1.0, lock_attempts: int = 3):
        self.path = Path(path).expanduser()
        self.lock_timeout_s = float(lock_timeout_s)
        self.lock_attempts = max(1, int(lock_attempts))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout: SQLite's busy timeout, how long one statement waits for another writer's lock.
            self._db = sqlite3.connect(
                str(self.path), timeout=self.lock_timeout_s, check_same_thread=False, isolation_level=None
            )
        except (OSError, sqlite3.Error) as error:
            raise SessionStoreError(
                f"cannot open the session store {self.path}: {error}; set session.store_path to a writable "
                f"file"
            ) from None
        try:
            self._retrying(
                "opening",
                lambda: (self._db.execute("PRAGMA journal_mode=WAL"), self._db.executescript(SCHEMA)),
            )
        except SessionStoreLocked:
            self._db.close()
            raise
        except SessionStoreError as error:
            self._db.close()
            raise SessionStoreError(f"{error}; set session.store_path to a writable file") from None

    # -- writes -----------------------------------------------------------------------------

    def save(
        self,
        session_id: str,
        scenario_id: str,
        phase: str,
        data: dict[str, Any],
        replaces: Optional[str] = None,
    ) -> None:
        """Write one session; `replaces` (a session id) is marked aborted in the same transaction."""
        now = time.time()
        payload = json.dumps(data, separators=(",", ":"))
        statements = [
            (
                "INSERT INTO sessions (session_id, scenario_id, phase, data, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET "
                "phase = excluded.phase, data = excluded.data, updated_at = excluded.updated_at",
                (session_id, scenario_id, phase, payload, now, now),
            )
        ]
        if replaces is not None and replaces != session_id:
            statements.append(_set_phase_statement(replaces, "aborted", now))
        self._write(statements)

    def set_phase(self, session_id: str, phase: str) -> None:
        self._write([_set_phase_statement(session_id, phase, time.time())])

    def quarantine(self, session_id: str, reason: str) -> None:
        """Move a session that cannot be read or resumed out of the active ones, keeping its data."""
        now = time.time()
        self._write(
            [
                _set_phase_statement(session_id, QUARANTINED, now),
                (
                    "INSERT INTO quarantine (session_id, reason, quarantined_at) VALUES (?, ?, ?)",
                    (session_id, reason, now),
                ),
            ]
        )

    # -- reads ------------------------------------------------------------------------------

    def load(self, session_id: str) -> Optional[dict[str, Any]]:
        """The session's data; None when there is no such row or its data is not a JSON object."""
        row = self._retrying(
            "reading",
            lambda: self._db.execute(
                "SELECT data FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone(),
        )
        if row is None:
            return None
        data, _ = _parsed(row[0])
        return data

    def latest_active(
        self,
        exclude: Collection[str] = (),
        on_quarantine: Optional[Callable[[str, str], None]] = None,
    ) -> Optional[tuple[str, dict[str, Any]]]:
        """The most recently updated session still negotiating whose data is a JSON object, as
        (session_id, data). Newer active rows that are not are quarantined on the way (and passed
        to on_quarantine(session_id, reason)); rows in `exclude` are skipped."""
        placeholders = ",".join("?" * len(ACTIVE_PHASES))
        rows = self._retrying(
            "reading",
            lambda: self._db.execute(
                f"SELECT session_id, data FROM sessions WHERE phase IN ({placeholders}) ORDER BY updated_at "
                f"DESC",
                ACTIVE_PHASES,
            ).fetchall(),
        )
        for session_id, text in rows:
            if session_id in exclude:
                continue
            data, problem = _parsed(text)
            if data is not None:
                return session_id, data
            reason = f"stored data is {problem}"
            try:
                self.quarantine(session_id, reason)
            except SessionStoreError as error:
                reason += f" (it could not be marked quarantined: {error})"
            if on_quarantine is not None:
                on_quarantine(session_id, reason)
        return None

    def phases(self) -> dict[str, str]:
        return dict(
            self._retrying(
                "reading", lambda: self._db.execute("SELECT session_id, phase FROM sessions").fetchall()
            )
        )

    def quarantined(self) -> dict[str, str]:
        """session id -> the latest reason it was quarantined."""
        return dict(
            self._retrying(
                "reading",
                lambda: self._db.execute(
                    "SELECT session_id, reason FROM quarantine ORDER BY quarantined_at"
                ).fetchall(),
            )
        )

    def close(self) -> None:
        self._db.close()

    # -- locks and errors -------------------------------------------------------------------

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        def transaction() -> None:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, parameters in statements:
                    self._db.execute(sql, parameters)
                self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (busy) leaves the transaction open: undo it before the next try.
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise

        self._retrying("writing", transaction)

    def _retrying(self, doing: str, action: Callable[[], T]) -> T:
        """Run action, again after a lock conflict (up to lock_attempts times); sqlite3 errors
        become SessionStoreLocked or SessionStoreError naming the file."""
        last_error: Optional[sqlite3.Error] = None
        for attempt in range(self.lock_attempts):
            if attempt:
                time.sleep(_RETRY_PAUSE_S)
            try:
                return action()
            except sqlite3.Error as error:
                if not _is_lock_conflict(error):
                    raise SessionStoreError(
                        f"{doing} the session store {self.path} failed: {error}"
                    ) from error
                last_error = error
        raise SessionStoreLocked(
            f"the session store {self.path} is locked by another connection ({last_error}; "
            f"{self.lock_attempts} attempts of {self.lock_timeout_s:g} s each); close the program "
            "holding the lock, or raise session.store_lock_timeout_s"
        ) from last_error


def _set_phase_statement(session_id: str, phase: str, now: float) -> tuple[str, tuple]:
    return "UPDATE sessions SET phase = ?, updated_at = ? WHERE session_id = ?", (phase, now, session_id)


def _is_lock_conflict(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _LOCK_CODES  # extended codes (SQLITE_BUSY_SNAPSHOT, ...) share the low byte
    return "locked" in str(error) or "busy" in str(error)


def _parsed(text: Any) -> tuple[Optional[dict[str, Any]], str]:
    """(data, "") for a JSON object; (None, what it is instead) otherwise."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None, "not UTF-8 text"
    if not isinstance(text, str):
        return None, f"not text ({type(text).__name__})"
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        return None, f"not JSON ({error})"
    if not isinstance(data, dict):
        return None, f"JSON but not an object ({type(data).__name__})"
    return data, ""
