"""A small pool of warehouse sessions, so a step or a server logs in once, not per window.

Why: a Snowflake login is a round trip (with key-pair auth, a signature) of 0.3-1 s and a
line in LOGIN_HISTORY; a pattern backfill of 168 windows used to log in 168 times and the
API once per request. The pool hands each caller a session of its own (a session is used
by one thread at a time), keeps up to ``max_idle`` idle ones for the next caller, drops
sessions idle longer than ``idle_timeout_s`` (Snowflake ends idle sessions after 4 h
anyway), and never returns a session to the pool after a connection-level failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any


def _reusable_after(exc: BaseException) -> bool:
    """A SQL error leaves the session usable (the caller rolled back); anything else may not."""
    from snowflake.connector import errors

    return isinstance(exc, errors.ProgrammingError) and not isinstance(exc, errors.OperationalError)


class SessionPool:
    def __init__(self, connect: Callable[[], Any], max_idle: int = 4, idle_timeout_s: float = 600.0) -> None:
        self._connect = connect
        self.max_idle = max_idle
        self.idle_timeout_s = idle_timeout_s
        self._idle: list[tuple[Any, float]] = []
        self._lock = threading.Lock()
        self.opened = 0

    def _take(self) -> Any | None:
        now = time.monotonic()
        stale = []
        found = None
        with self._lock:
            while self._idle and found is None:
                conn, since = self._idle.pop()
                if now - since > self.idle_timeout_s or conn.is_closed():
                    stale.append(conn)
                else:
                    found = conn
        for conn in stale:
            with suppress(Exception):
                conn.close()
        return found

    def _give(self, conn: Any) -> None:
        with self._lock:
            if len(self._idle) < self.max_idle and not conn.is_closed():
                self._idle.append((conn, time.monotonic()))
                return
        with suppress(Exception):
            conn.close()

    @contextmanager
    def session(self) -> Iterator[Any]:
        conn = self._take()
        if conn is None:
            conn = self._connect()
            with self._lock:
                self.opened += 1
        try:
            yield conn
        except BaseException as exc:
            if _reusable_after(exc):
                self._give(conn)
            else:
                with suppress(Exception):
                    conn.close()
            raise
        self._give(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _since in idle:
            with suppress(Exception):
                conn.close()
