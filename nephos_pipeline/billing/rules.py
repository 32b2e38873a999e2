"""Snowflake's warehouse billing rules applied to busy intervals.

A suspended warehouse resumes when a statement needs it, and from then on bills every
second it runs, with a minimum of 60 seconds per resume; it suspends after
``AUTO_SUSPEND`` seconds without a statement (``sql/setup/account_setup.sql``: 60). An
XSMALL warehouse costs 1 credit per hour. So work that arrives less than ``AUTO_SUSPEND``
after the last statement ended is on the same resume, and each resume bills at least
``max(60, busy span + AUTO_SUSPEND)``.

Simplifications (stated in docs/benchmarks.md): suspension happens exactly
``AUTO_SUSPEND`` seconds after the last statement (Snowflake's background check can add
up to about 30 s); statements are billed from their start to their end, queueing
included; cloud-services time is not billed (it stays under the free 10 %).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

XSMALL_CREDITS_PER_HOUR = 1.0
MIN_BILLED_S = 60.0
DEFAULT_AUTO_SUSPEND_S = 60.0


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


def resumes(intervals: Iterable[tuple[float, float]], auto_suspend_s: float = DEFAULT_AUTO_SUSPEND_S,
            min_billed_s: float = MIN_BILLED_S) -> list[Resume]:
    """Busy intervals (start, end) in seconds -> the resumes they cause, in time order."""
    out: list[Resume] = []
    start = last = None
    count = 0
    for a, b in sorted(intervals):
        if b < a:
            raise ValueError(f"interval ends before it starts: {(a, b)}")
        if start is not None and a < last + auto_suspend_s:
            last = max(last, b)
            count += 1
            continue
        if start is not None:
            out.append(_close(start, last, count, auto_suspend_s, min_billed_s))
        start, last, count = a, b, 1
    if start is not None:
        out.append(_close(start, last, count, auto_suspend_s, min_billed_s))
    return out


def _close(start: float, last: float, count: int, auto_suspend_s: float, min_billed_s: float) -> Resume:
    return Resume(start, last, max(min_billed_s, last - start + auto_suspend_s), count)


def credits(billed_s: float, credits_per_hour: float = XSMALL_CREDITS_PER_HOUR) -> float:
    return billed_s / 3600.0 * credits_per_hour
