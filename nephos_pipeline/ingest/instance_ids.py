"""Which instance ids the metrics extract queries: registered ones and every id known to report.

Metrics are read by a Query per instance id, so an id nobody asks for is never read. The
Instances table alone is not enough: an instance may report before it is registered, after
it is deregistered, or under a mistyped id. ``METRIC_INSTANCE_IDS`` remembers every id whose
items were read (by a sync), seen in the stream (the change sensor) or found by the
reconciliation Scan, with the time range of its items; a window's extract queries the
registered ids plus the known ids whose range is near the window. Once an id's items have
been read for a window, every re-sync of that window reads them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse import Warehouse

FOUND_BY = ("sync", "stream", "reconciliation")


@dataclass(frozen=True)
class SeenRange:
    """The first and last item timestamp (epoch ms) read for one instance id."""

    first_ms: int
    last_ms: int

    def widen(self, ms: int) -> SeenRange:
        return SeenRange(min(self.first_ms, ms), max(self.last_ms, ms))


def item_ms(item: Mapping[str, Any]) -> int | None:
    """The sort key of a metric item as an int, or None if it is not a number."""
    attr = item.get("timestamp")
    try:
        return int(float(attr["N"])) if isinstance(attr, Mapping) and "N" in attr else None
    except (TypeError, ValueError, OverflowError):
        return None


def widen(ranges: dict[str, SeenRange], instance_id: str, ms: int) -> None:
    old = ranges.get(instance_id)
    ranges[instance_id] = SeenRange(ms, ms) if old is None else old.widen(ms)


def _naive(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)


def near_window(warehouse: Warehouse, conn: Any, start: datetime, end: datetime) -> list[str]:
    """Known ids whose items may lie in ``[start, end)``."""
    df = warehouse.query(load_sql("load/known_metric_instance_ids.sql"), {"window_start": start, "window_end": end},
                         conn)
    return [str(v) for v in df["instance_id"]] if not df.empty else []


def record(
    warehouse: Warehouse,
    conn: Any,
    ranges: Mapping[str, SeenRange],
    registered: Iterable[str],
    found_by: Mapping[str, str] | str,
    seen_at: datetime,
) -> int:
    """Remember the ids in ``ranges`` (widening known ranges); returns how many were staged.

    ``found_by`` is one of ``FOUND_BY`` for every id, or a per-id mapping (default ``sync``);
    it is kept only for ids seen for the first time.
    """
    if not ranges:
        return 0
    known = set(registered)
    how = (lambda _iid: found_by) if isinstance(found_by, str) else (lambda iid: found_by.get(iid, "sync"))
    frame = pd.DataFrame.from_records(
        [(iid, _naive(r.first_ms), _naive(r.last_ms), iid in known, how(iid)) for iid, r in sorted(ranges.items())],
        columns=["INSTANCE_ID", "FIRST_TS", "LAST_TS", "REGISTERED", "FOUND_BY"],
    )
    for col in ("FIRST_TS", "LAST_TS"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")
    warehouse.execute(load_sql("load/stage_metric_instance_ids.sql"), conn=conn)
    warehouse.write_frame(conn, frame, "STG_METRIC_INSTANCE_IDS")
    with warehouse.transaction(conn) as cur:
        cur.execute(load_sql("load/merge_metric_instance_ids.sql"), {"seen_at": seen_at})
    return len(frame)
