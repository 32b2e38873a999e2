"""Small helpers shared by the analyses (pure: no Dagster, no SQL)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd


def fingerprint(*parts: Any) -> str:
    """Stable id of a finding across runs: same parts, same fingerprint."""
    text = "|".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def finite(value: Any) -> float | None:
    """A float, or None for NaN/None/inf, so evidence stays JSON-clean."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def rounded(value: Any, digits: int = 3) -> float | None:
    f = finite(value)
    return None if f is None else round(f, digits)


def slope_stats(n: float, sxx: float, syy: float, sxy: float) -> tuple[float | None, float | None]:
    """Standard error of a least-squares slope and its two-sided p-value (normal approx.).

    Returns (None, None) when there are too few points or no spread in x.
    """
    n, sxx, syy, sxy = (finite(v) for v in (n, sxx, syy, sxy))
    if None in (n, sxx, syy, sxy) or n < 3 or sxx <= 0:
        return None, None
    sse = max(syy - sxy * sxy / sxx, 0.0)
    se = math.sqrt(sse / (n - 2) / sxx)
    slope = sxy / sxx
    if se == 0:
        return 0.0, 0.0 if slope != 0 else 1.0
    t = abs(slope / se)
    return se, math.erfc(t / math.sqrt(2))


def iso(moment: datetime | pd.Timestamp | None) -> str | None:
    if moment is None or (isinstance(moment, float) and math.isnan(moment)):
        return None
    return pd.Timestamp(moment).isoformat()


def series_lookup(hourly: pd.DataFrame) -> dict[tuple[str, str], list[list[Any]]]:
    """(instance, metric) -> [[iso hour, avg], ...] for evidence charts."""
    out: dict[tuple[str, str], list[list[Any]]] = {}
    if hourly.empty:
        return out
    for (iid, metric), grp in hourly.sort_values("hour_start").groupby(["instance_id", "metric"], sort=False):
        out[(iid, metric)] = [[iso(t), rounded(v, 2)] for t, v in zip(grp.hour_start, grp.avg_value, strict=False)]
    return out


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as a naive UTC datetime (the warehouse's TIMESTAMP_NTZ convention)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def window_ends(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """The ends of the ``step`` windows in (start, end]: what a partition range analyses."""
    out, t = [], start + step
    while t <= end:
        out.append(t)
        t += step
    return out


def by_window(frame: pd.DataFrame, ends: Sequence[datetime]) -> dict[datetime, pd.DataFrame]:
    """Split a set-based result on its ``window_end`` column: one frame per window end
    (without that column, index reset), an empty frame for a window with no rows."""
    groups = {pd.Timestamp(t): g for t, g in frame.groupby("window_end", sort=False)} if not frame.empty else {}
    empty = frame.drop(columns="window_end").iloc[0:0]
    return {t: groups[key].drop(columns="window_end").reset_index(drop=True)
            if (key := pd.Timestamp(naive_utc(t))) in groups else empty.copy() for t in ends}
