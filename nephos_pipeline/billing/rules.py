"""Snowflake's warehouse billing rules applied to busy intervals.

As documented (docs.snowflake.com: CREATE WAREHOUSE, AUTO_SUSPEND; "Virtual warehouse
credit usage"): a suspended warehouse resumes when a statement needs it and from then on
bills every second it runs, with a minimum of 60 seconds per resume; an XSMALL warehouse
costs 1 credit per hour. It suspends after ``AUTO_SUSPEND`` seconds without a statement,
but "the background process that suspends a warehouse runs approximately every 30
seconds" (values under 30, or not a multiple of 30, are allowed but not honoured exactly;
older versions of the page said 60 seconds). So a resume ends at the first poll at or
after ``last statement + AUTO_SUSPEND``: up to ``poll_s`` later than the setting, and work
that arrives before that poll is still on the same resume. Each resume bills
``max(60, busy span + AUTO_SUSPEND + wait for the poll)``.

``AUTO_SUSPEND`` is read from ``sql/setup/account_setup.sql`` (``auto_suspend_s``), the
warehouse the DBA creates. The poll's phase is unknown, so ``replay`` averages over
phases. Simplifications (docs/benchmarks.md): statements are billed from their start to
their end, queueing included; cloud-services time is not billed (it stays under the free
10 %); resuming itself (provisioning, usually a second or two) is not billed extra.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

XSMALL_CREDITS_PER_HOUR = 1.0
MIN_BILLED_S = 60.0
DEFAULT_AUTO_SUSPEND_S = 60.0
SUSPEND_POLL_S = 30.0  # Snowflake's suspension check, "approximately every 30 seconds"


def auto_suspend_s(setup_sql: str | None = None) -> float:
    """``AUTO_SUSPEND`` of NEPHOS_WH in ``sql/setup/account_setup.sql`` (or the text given)."""
    if setup_sql is None:
        from nephos_pipeline.sql_files import load_sql

        setup_sql = load_sql("setup/account_setup.sql")
    code = re.sub(r"--[^\n]*", "", setup_sql)  # the comments explain the setting, and may quote others
    found = re.search(r"CREATE WAREHOUSE[^;]*?\bAUTO_SUSPEND\s*=\s*(\d+)", code, re.IGNORECASE)
    return float(found.group(1)) if found else DEFAULT_AUTO_SUSPEND_S


@dataclass(frozen=True)
class Resume:
    """One warehouse resume: first statement start, last statement end, seconds billed."""

    start_s: float
    last_end_s: float
    billed_s: float
    statements: int

    @property
    def suspend_s(self) -> float:
        return self.start_s + self.billed_s


def suspends_at(last_end_s: float, auto_suspend_s: float, poll_s: float = 0.0, phase_s: float = 0.0) -> float:
    """When the warehouse suspends: ``AUTO_SUSPEND`` after the last statement, at the next
    poll (polls at ``phase_s + k * poll_s``; ``poll_s`` 0: exactly then)."""
    due = last_end_s + auto_suspend_s
    if poll_s <= 0:
        return due
    return phase_s + math.ceil((due - phase_s) / poll_s - 1e-9) * poll_s


def resumes(intervals: Iterable[tuple[float, float]], auto_suspend_s: float = DEFAULT_AUTO_SUSPEND_S,
            min_billed_s: float = MIN_BILLED_S, poll_s: float = 0.0, phase_s: float = 0.0) -> list[Resume]:
    """Busy intervals (start, end) in seconds -> the resumes they cause, in time order."""
    out: list[Resume] = []
    start = last = None
    count = 0
    for a, b in sorted(intervals):
        if b < a:
            raise ValueError(f"interval ends before it starts: {(a, b)}")
        if start is not None and a < suspends_at(last, auto_suspend_s, poll_s, phase_s):
            last = max(last, b)
            count += 1
            continue
        if start is not None:
            out.append(_close(start, last, count, auto_suspend_s, min_billed_s, poll_s, phase_s))
        start, last, count = a, b, 1
    if start is not None:
        out.append(_close(start, last, count, auto_suspend_s, min_billed_s, poll_s, phase_s))
    return out


def _close(start: float, last: float, count: int, auto_suspend_s: float, min_billed_s: float, poll_s: float,
           phase_s: float) -> Resume:
    end = suspends_at(last, auto_suspend_s, poll_s, phase_s)
    return Resume(start, last, max(min_billed_s, end - start), count)


def credits(billed_s: float, credits_per_hour: float = XSMALL_CREDITS_PER_HOUR) -> float:
    return billed_s / 3600.0 * credits_per_hour
