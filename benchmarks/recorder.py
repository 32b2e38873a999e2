"""Record every statement the real jobs send to the embedded warehouse, with its timing.

Benchmark scaffolding: it wraps the fakesnow cursor's ``execute`` and the warehouse's bulk
load at class level for the life of this process, so the jobs run exactly as shipped. The
output is ``nephos_pipeline.billing.statements.JobProfile``, the credit model's input; a
recorder on the Snowflake path (or ``QUERY_HISTORY``) can produce the same structure with
real durations. Durations here are DuckDB's on this machine, not Snowflake's.

The clock is this process's CPU time (``time.process_time``, all threads), not the wall
clock: the machine is shared (load averages of 10-16 on 2 cores during these runs), and a
wall clock would bill other people's work and the local DynamoDB server's (a separate
process) as warehouse time. On a quiet machine the two agree for this work, except that
DuckDB's parallel statements count each thread (an over-estimate). The wall time of each
run is kept as well.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from nephos_pipeline.billing.statements import JobProfile, Statement, needs_warehouse

_state: dict[str, Any] = {"profile": None, "t0": 0.0, "depth": 0}
clock = time.process_time


def _wrap(fn: Any, label: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        profile: JobProfile | None = _state["profile"]
        if profile is None or _state["depth"] > 0:
            return fn(*args, **kwargs)
        _state["depth"] += 1
        started = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            _state["depth"] -= 1
            sql = label(args)
            profile.statements.append(Statement(started - _state["t0"], clock() - started,
                                                " ".join(sql.split())[:120], needs_warehouse(sql)))
    return wrapper


def install() -> None:
    """Patch once per process."""
    from fakesnow.cursor import FakeSnowflakeCursor

    from nephos_pipeline.warehouse.local import LocalWarehouse

    if getattr(FakeSnowflakeCursor.execute, "_nephos_recorded", False):
        return
    execute = _wrap(FakeSnowflakeCursor.execute, lambda args: str(args[1]) if len(args) > 1 else "")
    execute._nephos_recorded = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = execute
    LocalWarehouse._write_pandas = _wrap(LocalWarehouse._write_pandas,
                                         lambda args: f"COPY INTO {args[3]} /* write_pandas */")


@contextlib.contextmanager
def recording(job: str) -> Iterator[JobProfile]:
    """``with recording('anomaly_job') as profile: run it`` -> statements and wall time."""
    install()
    profile = JobProfile(job, 0.0)
    _state["profile"], _state["t0"] = profile, clock()
    wall0 = time.perf_counter()
    try:
        yield profile
    finally:
        profile.wall_s = clock() - _state["t0"]
        profile.measured_wall_s = time.perf_counter() - wall0
        _state["profile"] = None
