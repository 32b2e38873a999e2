"""Score and flag a range of ticks in chunks of hosts and time slices: bounded memory.

Why: one scoring statement joins every scored (instance, metric, tick) row to up to 672
baseline buckets and takes medians over them, so its memory grows with hosts x ticks. A
7-day backfill of 50 hosts peaked at 4.4 GB in one statement. Scoring is per series and
causal, and flagging is row by row, so scoring a chunk of hosts over a slice of ticks and
keeping only its flagged rows gives exactly the rows a single statement would, in the same
order, while at most one chunk's scores are in memory. ``settings.Chunking`` bounds a
chunk (``NEPHOS_CHUNK_INSTANCES``, ``NEPHOS_CHUNK_ROWS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nephos_pipeline.analytics.anomaly import detector
from nephos_pipeline.settings import Chunking
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.warehouse.base import Warehouse

TICK = timedelta(minutes=15)


@dataclass(frozen=True)
class Chunk:
    """Hosts and the tick slice [first_tick, last_tick] one scoring statement covers."""

    instance_ids: tuple[str, ...]
    first_tick: datetime
    last_tick: datetime


def plan(series: pd.DataFrame, first_tick: datetime, last_tick: datetime, chunking: Chunking) -> list[Chunk]:
    """Chunks covering every series in ``series`` (instance_id, metric) over the range."""
    if series.empty or last_tick < first_tick:
        return []
    per_host = series.groupby("instance_id", sort=True).size()
    hosts = list(per_host.index)
    chunks: list[Chunk] = []
    size = chunking.tick_instances if first_tick == last_tick else chunking.instances  # see settings.Chunking
    for i in range(0, len(hosts), size):
        group = tuple(str(h) for h in hosts[i:i + size])
        n_series = int(per_host.loc[list(group)].sum())
        ticks_per_slice = max(1, chunking.rows // max(1, n_series))
        start = first_tick
        while start <= last_tick:
            end = min(last_tick, start + (ticks_per_slice - 1) * TICK)
            chunks.append(Chunk(group, start, end))
            start = end + TICK
    return chunks


def aligned(first_tick: datetime, last_tick: datetime) -> tuple[datetime, datetime]:
    """Round unaligned bounds inwards to 15-minute ticks, as the scoring SQL does."""
    first = pd.Timestamp(first_tick).ceil("15min").to_pydatetime()
    last = pd.Timestamp(last_tick).floor("15min").to_pydatetime()
    return first, last


LEVEL_COLUMNS = ["tick", "instance_id", "metric", "value", "seasonal_centre"]  # what a held incident reads


def flag_range(warehouse: Warehouse, conn: Any, first_tick: datetime, last_tick: datetime,
               config: detector.DetectorConfig = detector.DEFAULT, chunking: Chunking | None = None,
               watched: set[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The flagged rows of [first_tick, last_tick] (as ``detector.flag`` of one big scoring
    call would return them), the window levels the incident lifecycle needs, and the number
    of series scored.

    Each chunk is scored from ``LOOKBACK_TICKS`` before its slice, because persistence rules
    read a series' previous windows; only the slice's own rows are kept, and the lookback
    rows get the week baseline only if the detector reads it there. Levels (tick,
    instance_id, metric, value) are kept only for series with an incident: those in
    ``watched`` (open before the range) and those flagged so far. Slices of one host group
    run in time order, so a series flagged in one slice has its levels kept from then on.
    """
    chunking = chunking or Chunking.from_env()
    first, last = aligned(detector._naive_utc(first_tick), detector._naive_utc(last_tick))
    flagged: list[pd.DataFrame] = []
    levels: list[pd.DataFrame] = []
    scored: set[tuple[str, str]] = set()
    keep = set(watched or ())
    seasonal = config.needs_seasonal  # the hour-of-day baseline is about a third of the SQL's work
    lookback = detector.LOOKBACK_TICKS * TICK
    for chunk in plan_range(warehouse, conn, first, last, chunking):
        # Lookback rows feed persistence masks only: most detectors read no week baseline there.
        week_from = None if config.lookback_reads_week else chunk.first_tick
        scores = detector.score_ticks(warehouse, conn, chunk.first_tick - lookback, chunk.last_tick,
                                      chunk.instance_ids, seasonal, week_from)
        if scores.empty:
            continue
        hit = detector.flag(scores, config)
        own = scores[scores["tick"] >= pd.Timestamp(chunk.first_tick)]
        scored.update(zip(own["instance_id"], own["metric"], strict=True))
        hit = hit[hit["tick"] >= pd.Timestamp(chunk.first_tick)]
        if not hit.empty:
            flagged.append(hit)
            keep.update(zip(hit["instance_id"].astype(str), hit["metric"].astype(str), strict=True))
        mine = [(str(i), str(m)) in keep for i, m in zip(own["instance_id"], own["metric"], strict=True)]
        if any(mine):
            levels.append(own.loc[mine, LEVEL_COLUMNS])
    level_frame = pd.concat(levels, ignore_index=True) if levels else pd.DataFrame(columns=LEVEL_COLUMNS)
    if not flagged:
        return pd.DataFrame(columns=detector.FLAG_COLUMNS), level_frame, len(scored)
    out = pd.concat(flagged, ignore_index=True)
    out = out.sort_values(["tick", "instance_id", "metric"], kind="stable").reset_index(drop=True)
    return out, level_frame, len(scored)


def plan_range(warehouse: Warehouse, conn: Any, first: datetime, last: datetime,
               chunking: Chunking) -> list[Chunk]:
    """The chunks of the series that have data in [first, last]."""
    series = warehouse.query(load_sql("analytics/anomaly_series.sql"),
                             {"range_start": first, "range_end": last}, conn)
    return plan(series, first, last, chunking)
