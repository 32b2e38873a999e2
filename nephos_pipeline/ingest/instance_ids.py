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


HOUR_MS = 3_600_000


def _hour(ms: int) -> datetime:
    """Ranges are kept to the hour: later syncs of an hour already recorded change nothing."""
    return datetime.fromtimestamp((ms - ms % HOUR_MS) / 1000, tz=UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Known:
    first: datetime
    last: datetime
    registered: bool

    def covers(self, seen: SeenRange, registered: bool) -> bool:
        return self.first <= _hour(seen.first_ms) and self.last >= _hour(seen.last_ms) and self.registered == registered


def near_window(warehouse: Warehouse, conn: Any, start: datetime, end: datetime) -> dict[str, Known]:
    """Known ids whose items may lie in ``[start, end)``, with what is known of them."""
    df = warehouse.query(load_sql("load/known_metric_instance_ids.sql"), {"window_start": start, "window_end": end},
                         conn)
    return {str(r.instance_id): Known(pd.Timestamp(r.first_ts).to_pydatetime(), pd.Timestamp(r.last_ts).to_pydatetime(),
                                      bool(r.registered)) for r in df.itertuples(index=False)}


def record(
    warehouse: Warehouse,
    conn: Any,
    ranges: Mapping[str, SeenRange],
    registered: Iterable[str],
    found_by: Mapping[str, str] | str,
    seen_at: datetime,
    known: Mapping[str, Known] | None = None,
) -> int:
    """Remember the ids in ``ranges`` (widening known ranges); returns how many were staged.

    ``found_by`` is one of ``FOUND_BY`` for every id, or a per-id mapping (default ``sync``);
    it is kept only for ids seen for the first time. Ids whose ``known`` entry already covers
    what was seen are skipped, and with nothing to record no statement runs.
    """
    reg = set(registered)
    ranges = {iid: r for iid, r in ranges.items()
              if known is None or iid not in known or not known[iid].covers(r, iid in reg)}
    if not ranges:
        return 0
    how = (lambda _iid: found_by) if isinstance(found_by, str) else (lambda iid: found_by.get(iid, "sync"))
    frame = pd.DataFrame.from_records(
        [(iid, _hour(r.first_ms), _hour(r.last_ms), iid in reg, how(iid)) for iid, r in sorted(ranges.items())],
        columns=["INSTANCE_ID", "FIRST_TS", "LAST_TS", "REGISTERED", "FOUND_BY"],
    )
    for col in ("FIRST_TS", "LAST_TS"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[us]")
    warehouse.execute(load_sql("load/stage_metric_instance_ids.sql"), conn=conn)
    warehouse.write_frame(conn, frame, "STG_METRIC_INSTANCE_IDS")
    with warehouse.transaction(conn) as cur:
        cur.execute(load_sql("load/merge_metric_instance_ids.sql"), {"seen_at": seen_at})
    return len(frame)
