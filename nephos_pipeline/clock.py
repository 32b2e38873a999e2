"""Time helpers every layer shares: now in UTC, flooring to a step, the partition key format.

Why one module: "now" and "the window this moment falls in" were written three ways
(aware, naive, epoch-anchored or not), and a window computed one way by a schedule and
another by the runner is a partition off by one. Pure Python.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Every time partition key (hourly, quarter-hourly, six-hourly): the window start, UTC.
PARTITION_FMT = "%Y-%m-%d-%H:%M"


def utc_now() -> datetime:
    """Now, timezone-aware (UTC)."""
    return datetime.now(UTC)


def utc_now_naive() -> datetime:
    """Now as the naive UTC datetime TIMESTAMP_NTZ columns hold."""
    return utc_now().replace(tzinfo=None)


def partition_start(key: str) -> datetime:
    """The window start (aware, UTC) a partition key names; ValueError if it is not one."""
    return datetime.strptime(key, PARTITION_FMT).replace(tzinfo=UTC)


def floor_time(moment: datetime, step: timedelta) -> datetime:
    """The start of the ``step``-long window (counted from the Unix epoch) holding ``moment``.

    Naive in, naive out (taken as UTC); aware in, aware UTC out.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return epoch + ((moment - epoch) // step) * step
