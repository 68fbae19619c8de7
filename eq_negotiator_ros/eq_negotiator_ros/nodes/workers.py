"""A node's background worker: the slow work (recognition, generation, synthesis) runs off the
executor thread, so the node keeps receiving messages while its model works."""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class JobWorker:
    """One background thread that handles jobs in order, so a node holding a slow model (ASR,
    language model, TTS) keeps receiving messages while it works. A failing job is reported and
    the next one runs."""

    def __init__(self, name: str, handle: Callable[[Any], None], on_error: Callable[[str], None]):
        self._jobs: "queue.Queue" = queue.Queue()
        self._handle, self._on_error = handle, on_error
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, job: Any) -> None:
        self._jobs.put(job)

    @property
    def pending(self) -> int:
        return self._jobs.qsize()

    def drain(self) -> list:
        """Remove and return the jobs not started yet."""
        drained = []
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return drained
            if job is not None:
                drained.append(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._handle(job)
            except Exception as error:  # one bad job must not stop the ones after it
                self._on_error(f"{type(error).__name__}: {error}")

    def close(self, timeout_s: float = 5.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=timeout_s)
