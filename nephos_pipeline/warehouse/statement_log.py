"""A record of every statement sent to the warehouse, and what kind of statement it is.

Why: the grants a role needs, the credits a schedule costs and the number of sessions a
run opens are properties of the statements the code *actually sends*, not of the SQL files
we believe it runs. The Snowflake-protocol test server (``protocol_server``) feeds one of
these logs from the wire; anything else that sees statements (a cursor wrapper, a query
history export) can append to it the same way.

API: ``log = StatementLog()``; ``log.add(sql, user=..., session=..., database=..., ok=..., seconds=...)``;
``log.statements`` (a copy, in order; each a :class:`Statement` with ``sql, kind, user, session,
database, ok, error, seconds, at``); ``log.kinds(user=None)`` -> ``Counter`` of kinds;
``log.sessions(user=None)`` -> distinct session ids; ``log.clear()``. ``statement_kind(sql)``
classifies one statement (``"MERGE"``, ``"CREATE TEMPORARY TABLE"``, ``"COPY INTO"``,
``"SELECT CORTEX"``...), and ``targets(sql)`` names the tables/stages it writes.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_CORTEX = re.compile(r"\b(AI_COMPLETE|SNOWFLAKE\.CORTEX\.\w+)\s*\(", re.I)
_CREATE = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?P<temp>(?:LOCAL\s+|GLOBAL\s+)?(?:TEMPORARY|TEMP|TRANSIENT|VOLATILE)\s+)?"
    r"(?P<kind>TABLE|VIEW|STAGE|FILE\s+FORMAT|SEQUENCE|FUNCTION|PROCEDURE|SCHEMA|DATABASE|TASK|PIPE|STREAM)\b",
    re.I,
)
_TARGET = re.compile(
    r"^(?:INSERT\s+(?:OVERWRITE\s+)?INTO|MERGE\s+INTO|UPDATE|DELETE\s+FROM|COPY\s+INTO|TRUNCATE\s+(?:TABLE\s+)?"
    r"|CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMPORARY|TEMP|TRANSIENT)\s+)?(?:TABLE|VIEW|STAGE)\s+(?:IF\s+NOT\s+EXISTS\s+)?)"
    r"\s*(?P<name>[\w.$\"]+)",
    re.I,
)
_PUT_STAGE = re.compile(r"^PUT\s+\S+\s+@(?P<name>[\w.$\"]+)", re.I)


def _text(sql: str) -> str:
    return " ".join(_COMMENT.sub(" ", sql).split())


def statement_kind(sql: str) -> str:
    """A short, privilege-relevant kind: ``SELECT``, ``SELECT CORTEX``, ``CREATE VIEW``, ``MERGE``..."""
    text = _text(sql)
    upper = text.upper()
    first = upper.split(" ", 1)[0] if upper else ""
    if first in {"SELECT", "WITH"}:
        return "SELECT CORTEX" if _CORTEX.search(text) else "SELECT"
    if first == "CREATE":
        match = _CREATE.match(text)
        if not match:
            return "CREATE"
        kind = " ".join(match["kind"].upper().split())
        temp = match["temp"]
        return f"CREATE TEMPORARY {kind}" if temp and "TRANSIENT" not in temp.upper() else f"CREATE {kind}"
    if first in {"INSERT", "MERGE", "UPDATE", "DELETE", "COPY", "TRUNCATE", "DROP", "ALTER", "PUT", "GET",
                 "REMOVE", "LIST", "SHOW", "DESCRIBE", "DESC", "USE", "CALL", "GRANT", "REVOKE"}:
        if first == "COPY":
            return "COPY INTO"
        if first in {"ALTER", "DROP", "SHOW", "DESCRIBE", "DESC"}:
            words = upper.split()
            return " ".join(words[:2]) if len(words) > 1 else first
        return first
    if first in {"BEGIN", "START", "COMMIT", "ROLLBACK"}:
        return "TRANSACTION"
    return first or "EMPTY"


def targets(sql: str) -> list[str]:
    """Upper-case names of the objects a statement writes or creates (table, view or stage)."""
    text = _text(sql)
    match = _TARGET.match(text) or _PUT_STAGE.match(text)
    return [match["name"].strip('"').upper()] if match else []


@dataclass(frozen=True)
class Statement:
    sql: str
    kind: str
    user: str = ""
    session: str = ""
    database: str = ""
    ok: bool = True
    error: str = ""
    seconds: float = 0.0
    at: float = field(default_factory=time.time)


class StatementLog:
    """Thread-safe, append-only list of statements (a server answers requests on many threads).

    ``max_items`` keeps only the newest statements (a long-running server); ``None`` keeps all.
    """

    def __init__(self, max_items: int | None = None) -> None:
        self._lock = threading.Lock()
        self._items: deque[Statement] = deque(maxlen=max_items)

    def add(self, sql: str, *, user: str = "", session: str = "", database: str = "", ok: bool = True,
            error: str = "", seconds: float = 0.0) -> Statement:
        item = Statement(sql, statement_kind(sql), user.upper(), session, database.upper(), ok, error, seconds)
        with self._lock:
            self._items.append(item)
        return item

    @property
    def statements(self) -> list[Statement]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def kinds(self, user: str | None = None) -> Counter[str]:
        return Counter(s.kind for s in self.statements if user is None or s.user.upper() == user.upper())

    def sessions(self, user: str | None = None) -> set[str]:
        return {s.session for s in self.statements if user is None or s.user.upper() == user.upper()}
