"""What one job run sent to the warehouse: statements with their offsets and durations.

This is the credit model's input. ``benchmarks/recorder.py`` fills it on the embedded
warehouse by timing every statement the real jobs send; a recorder on the Snowflake path
(``QUERY_HISTORY``, or a connector hook) can fill the same structure with real durations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Statements Snowflake answers in its cloud-services layer, without resuming a warehouse:
# DDL, session and transaction control, SHOW/DESCRIBE. (Cloud-services time is free up to
# 10 % of the day's warehouse credits, so it is not billed here.) CREATE TABLE ... AS
# SELECT runs a query, so it does need the warehouse.
_NO_WAREHOUSE = ("CREATE", "ALTER", "DROP", "USE", "SHOW", "DESC", "DESCRIBE", "BEGIN", "COMMIT", "ROLLBACK",
                 "COMMENT", "GRANT", "REVOKE", "UNDROP")
_COMMENTS = re.compile(r"(--[^\n]*\n)|(/\*.*?\*/)", re.DOTALL)
_CTAS = re.compile(r"\bTABLE\b.*?\bAS\s*\(?\s*(SELECT|WITH)\b", re.IGNORECASE | re.DOTALL)


def needs_warehouse(sql: str) -> bool:
    """True when the statement runs on the virtual warehouse (SELECT, DML, COPY, CTAS...)."""
    text = _COMMENTS.sub(" ", sql + "\n").strip()
    if not text:
        return False
    first = text.split(None, 1)[0].upper().rstrip(";")
    if first == "CREATE":
        return bool(_CTAS.search(text[:400]))
    return first not in _NO_WAREHOUSE


@dataclass(frozen=True)
class Statement:
    """One statement: seconds after the run started, how long it ran, and its kind."""

    offset_s: float
    seconds: float
    sql_head: str = ""
    warehouse: bool = True


@dataclass
class JobProfile:
    """A measured run of one job: its wall time and its statements (offsets from its start)."""

    job: str
    wall_s: float
    statements: list[Statement] = field(default_factory=list)
    measured_wall_s: float | None = None  # when ``wall_s`` is on another clock (see the recorder)

    @property
    def warehouse_statements(self) -> list[Statement]:
        return [s for s in self.statements if s.warehouse]

    @property
    def warehouse_seconds(self) -> float:
        return sum(s.seconds for s in self.warehouse_statements)

    def to_dict(self) -> dict:
        return {"job": self.job, "wall_s": round(self.wall_s, 3), "measured_wall_s": self.measured_wall_s,
                "statements": len(self.statements),
                "warehouse_statements": len(self.warehouse_statements),
                "warehouse_seconds": round(self.warehouse_seconds, 3)}


def profile_from_log(job: str, logged: Iterable[Any], run_started_at: float | None = None,
                     wall_s: float | None = None) -> JobProfile:
    """A ``JobProfile`` from statements logged on the production path.

    ``logged`` items need ``sql``, ``seconds`` and ``at`` (epoch seconds when the statement
    finished), as ``nephos_pipeline.warehouse.statement_log.Statement`` has them (the
    Snowflake-protocol server's log); a ``QUERY_HISTORY`` export maps onto the same three.
    """
    items = sorted(logged, key=lambda s: s.at - s.seconds)
    if not items:
        return JobProfile(job, wall_s or 0.0)
    t0 = items[0].at - items[0].seconds if run_started_at is None else run_started_at
    statements = [Statement(s.at - s.seconds - t0, s.seconds, " ".join(str(s.sql).split())[:120],
                            needs_warehouse(str(s.sql))) for s in items]
    end = max(s.at for s in items) - t0
    return JobProfile(job, end if wall_s is None else wall_s, statements)
