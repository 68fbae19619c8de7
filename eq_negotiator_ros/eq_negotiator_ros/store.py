"""SQLite store of negotiation sessions, so that a restarted reasoning node resumes where it was.

One row per session: its phase and the session's own `to_dict()` as JSON, written after every turn
inside a transaction (a crash between turns loses nothing; a crash inside a turn loses that turn
only). Standard library only.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Optional

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
"""

ACTIVE_PHASES = ("negotiating",)


class SessionStoreError(RuntimeError):
    """The store file cannot be opened or written; the message names the file and the setting."""


class SessionStore:
    def __init__(self, path: Path | str):
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise SessionStoreError(
                f"cannot open the session store {self.path}: {error}; set session.store_path to a writable file"
            ) from None

    def save(self, session_id: str, scenario_id: str, phase: str, data: dict[str, Any]) -> None:
        now = time.time()
        payload = json.dumps(data, separators=(",", ":"))
        with self._transaction():
            self._db.execute(
                "INSERT INTO sessions (session_id, scenario_id, phase, data, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET "
                "phase = excluded.phase, data = excluded.data, updated_at = excluded.updated_at",
                (session_id, scenario_id, phase, payload, now, now),
            )

    def set_phase(self, session_id: str, phase: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE sessions SET phase = ?, updated_at = ? WHERE session_id = ?", (phase, time.time(), session_id)
            )

    def load(self, session_id: str) -> Optional[dict[str, Any]]:
        row = self._db.execute("SELECT data FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def latest_active(self) -> Optional[tuple[str, dict[str, Any]]]:
        """The most recently updated session still negotiating, as (session_id, data)."""
        placeholders = ",".join("?" * len(ACTIVE_PHASES))
        row = self._db.execute(
            f"SELECT session_id, data FROM sessions WHERE phase IN ({placeholders}) ORDER BY updated_at DESC LIMIT 1",
            ACTIVE_PHASES,
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def phases(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT session_id, phase FROM sessions").fetchall())

    def close(self) -> None:
        self._db.close()

    def _transaction(self):
        store = self

        class _Transaction:
            def __enter__(self):
                store._db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind, value, traceback):
                store._db.execute("COMMIT" if kind is None else "ROLLBACK")
                if isinstance(value, sqlite3.Error):
                    raise SessionStoreError(f"writing the session store {store.path} failed: {value}") from value
                return False

        return _Transaction()
