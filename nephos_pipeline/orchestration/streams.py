"""Reading the registered tables' DynamoDB Streams from a sensor cursor. Pure logic: no Dagster.

The sensor keeps no state between ticks except its cursor string, so everything needed to
resume lives in ``StreamCursor``: per table the stream ARN it belongs to and, per shard, the
last sequence number handed out. Iterators are never stored (they expire after 15 minutes)
except the one anchoring a LATEST start before the first record arrives.

Reading is at-least-once: the cursor advances only with the records returned, and the
sensor saves it only after Dagster has its run requests, so a crash replays, never skips.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from nephos_pipeline import tables
from nephos_pipeline.clock import PARTITION_FMT
from nephos_pipeline.tables import Table
from nephos_pipeline.tables.contract import ContractError, epoch_ms, ident, number

CURSOR_VERSION = 1
TABLE_KINDS = tables.names()  # one per registered table
START_POSITIONS = ("TRIM_HORIZON", "LATEST")
RETENTION = timedelta(hours=24)  # DynamoDB Streams keep records this long
PAGE_LIMIT = 1000  # the GetRecords maximum
MAX_EMPTY_PAGES = 5  # a closed shard may need a few empty pages before its end
_SEQ = re.compile(r"^[0-9]{1,64}$")
_SIG = re.compile(r"^[0-9a-f]{1,64}$")


# ---- cursor ---------------------------------------------------------------------------


@dataclass
class ShardState:
    seq: str | None = None  # last sequence number handed out
    done: bool = False  # closed shard read to its end: never read again
    iterator: str | None = None  # LATEST anchor, only until the first record is read


@dataclass
class StreamState:
    arn: str
    shards: dict[str, ShardState] = field(default_factory=dict)


@dataclass
class StreamCursor:
    """The sensor's whole memory; ``pending`` holds hours touched before they closed
    (partition key -> signature of the changes), requested once Dagster has the partition;
    ``unregistered`` the ids not in the Instances table seen in those hours (key -> ids);
    ``changed`` when the latest change to a pending hour was written (key -> epoch seconds),
    so a scheduled run that started after it is known to cover it (``coverage``)."""

    streams: dict[str, StreamState] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    unregistered: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        def shard(s: ShardState) -> dict[str, Any]:
            out: dict[str, Any] = {"seq": s.seq} if s.seq else {}
            out.update({"done": True} if s.done else {})
            out.update({"it": s.iterator} if s.iterator else {})
            return out

        streams = {
            kind: {"arn": st.arn, "shards": {sid: shard(s) for sid, s in sorted(st.shards.items())}}
            for kind, st in sorted(self.streams.items())
        }
        body = {"v": CURSOR_VERSION, "streams": streams, "pending": dict(sorted(self.pending.items()))}
        if self.unregistered:
            body["unregistered"] = {k: sorted(v) for k, v in sorted(self.unregistered.items())}
        if changed := {k: v for k, v in sorted(self.changed.items()) if k in self.pending}:
            body["changed"] = changed
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> tuple[StreamCursor, str | None]:
        """Never raises: a corrupt or older-format cursor becomes an empty one plus a warning,
        because a sensor that raises on its own cursor fails every tick until someone edits it."""
        if not text:
            return cls(), None
        try:
            return _parse(json.loads(text)), None
        except Exception as exc:  # noqa: BLE001 - anything at all in a stored string
            return cls(), f"sensor cursor reset ({type(exc).__name__}: {str(exc)[:200]}); starting over"


def _parse(body: Any) -> StreamCursor:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(what)

    need(isinstance(body, dict), "not a JSON object")
    need(body.get("v") == CURSOR_VERSION, f"cursor format {body.get('v')!r}, expected {CURSOR_VERSION}")
    streams, pending = body.get("streams"), body.get("pending", {})
    need(isinstance(streams, dict) and isinstance(pending, dict), "streams/pending must be objects")
    cursor = StreamCursor()
    for kind, st in streams.items():
        need(kind in TABLE_KINDS and isinstance(st, dict), f"bad stream entry {str(kind)[:40]!r}")
        arn, shards = st.get("arn"), st.get("shards")
        need(isinstance(arn, str) and bool(arn) and isinstance(shards, dict), f"{kind}: bad arn/shards")
        state = StreamState(arn)
        for sid, s in shards.items():
            need(bool(sid) and isinstance(s, dict), f"{kind}: bad shard entry")
            seq, done, it = s.get("seq"), s.get("done", False), s.get("it")
            need(seq is None or (isinstance(seq, str) and bool(_SEQ.match(seq))), f"{kind}: bad sequence number")
            need(isinstance(done, bool) and (it is None or (isinstance(it, str) and bool(it))), f"{kind}: bad shard")
            state.shards[sid] = ShardState(seq, done, it)
        cursor.streams[kind] = state
    for key, sig in pending.items():
        datetime.strptime(key, PARTITION_FMT)  # ValueError if not a partition key
        need(isinstance(sig, str) and bool(_SIG.match(sig)), "bad pending signature")
        cursor.pending[key] = sig
    unregistered = body.get("unregistered", {})
    need(isinstance(unregistered, dict), "unregistered must be an object")
    for key, ids in unregistered.items():
        datetime.strptime(key, PARTITION_FMT)
        need(isinstance(ids, list) and all(isinstance(i, str) and i for i in ids), "bad unregistered ids")
        cursor.unregistered[key] = list(ids)
    changed = body.get("changed", {})  # absent in older cursors: taken as written at the next tick
    need(isinstance(changed, dict), "changed must be an object")
    for key, at in changed.items():
        need(key in cursor.pending and isinstance(at, int | float), "bad changed entry")
        cursor.changed[key] = float(at)
    return cursor


# ---- reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One stream record, or (``record is None``) a marker that the table's last
    ``RETENTION`` must be re-synced because records were lost to trimming."""

    table_kind: str
    stream_arn: str
    shard_id: str
    sequence_number: str
    record: Mapping[str, Any] | None

    @property
    def resync(self) -> bool:
        return self.record is None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _list_shards(client: Any, arn: str) -> dict[str, Mapping[str, Any]]:
    shards: dict[str, Mapping[str, Any]] = {}
    kwargs: dict[str, Any] = {"StreamArn": arn}
    while True:
        desc = client.describe_stream(**kwargs)["StreamDescription"]
        shards.update({s["ShardId"]: s for s in desc.get("Shards", [])})
        if not desc.get("LastEvaluatedShardId"):
            return shards
        kwargs["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]


class _TableReader:
    """One table's stream during one tick: which shards to read, from where, in what order."""

    def __init__(self, client: Any, kind: str, arn: str, state: StreamState, position: str,
                 changes: list[Change], warnings: list[str]) -> None:
        self.client, self.kind, self.arn, self.state, self.position = client, kind, arn, state, position
        self.changes, self.warnings = changes, warnings
        self.shards = _list_shards(client, arn)
        self.visited: set[str] = set()
        self.retried: set[str] = set()
        self.latest: set[str] = set()  # shards positioned at LATEST with no record yet
        self.empty_pages: dict[str, int] = {}
        for sid in [s for s in state.shards if s not in self.shards]:
            if not state.shards.pop(sid).done:  # trimmed away before we finished it
                self._resync(sid, None, f"shard {sid} left the stream before it was fully read")

    def _resync(self, sid: str, seq: str | None, why: str) -> None:
        self.warnings.append(f"{self.kind}: {why}; re-syncing the last {RETENTION} of the table")
        self.changes.append(Change(self.kind, self.arn, sid, seq or "", None))

    def _closed(self, sid: str) -> bool:
        return "EndingSequenceNumber" in self.shards[sid].get("SequenceNumberRange", {})

    def ready(self) -> list[str]:
        """Unread shards whose parent is finished or gone: parents first keeps per-item order."""
        def done(sid: str | None) -> bool:
            return sid not in self.shards or self.state.shards.get(sid, ShardState()).done

        return sorted(sid for sid, shard in self.shards.items()
                      if sid not in self.visited and not done(sid) and done(shard.get("ParentShardId")))

    def _iterator(self, sid: str, kind: str, seq: str | None = None) -> str:
        kwargs = {"SequenceNumber": seq} if seq else {}
        if kind == "LATEST":
            self.latest.add(sid)
        return self.client.get_shard_iterator(StreamArn=self.arn, ShardId=sid, ShardIteratorType=kind,
                                              **kwargs)["ShardIterator"]

    def open(self, sid: str) -> str | None:
        self.visited.add(sid)
        st = self.state.shards.setdefault(sid, ShardState())
        if st.iterator and not st.seq:
            self.latest.add(sid)
            return st.iterator
        if not st.seq:
            if self.position == "LATEST" and self._closed(sid):
                st.done = True  # history before the first start is deliberately not read
                return None
            return self._iterator(sid, self.position)
        try:
            return self._iterator(sid, "AFTER_SEQUENCE_NUMBER", st.seq)
        except ClientError as exc:
            if _code(exc) != "TrimmedDataAccessException":
                raise
            self.retried.add(sid)
            self._resync(sid, st.seq, f"records after sequence {st.seq} in {sid} were trimmed")
            st.seq = None
            return self._iterator(sid, "TRIM_HORIZON")

    def fetch(self, sid: str, iterator: str, limit: int) -> str | None:
        """Read one page; the iterator to continue with this tick, or None."""
        st = self.state.shards[sid]
        try:
            page = self.client.get_records(ShardIterator=iterator, Limit=limit)
        except ClientError as exc:
            if sid in self.retried or _code(exc) not in ("TrimmedDataAccessException", "ExpiredIteratorException"):
                raise
            self.retried.add(sid)
            if _code(exc) == "TrimmedDataAccessException":
                self._resync(sid, st.seq, f"records after sequence {st.seq} in {sid} were trimmed")
                st.seq = st.iterator = None
                return self._iterator(sid, "TRIM_HORIZON")
            if st.seq:
                return self._iterator(sid, "AFTER_SEQUENCE_NUMBER", st.seq)
            self.warnings.append(f"{self.kind}: LATEST anchor of {sid} expired; re-anchoring at LATEST, "
                                 "changes written since the previous tick may be missed")
            st.iterator = None
            return self._iterator(sid, "LATEST")
        records = page.get("Records") or []
        for rec in records:
            st.seq, st.iterator = str(rec["dynamodb"]["SequenceNumber"]), None
            self.changes.append(Change(self.kind, self.arn, sid, st.seq, rec))
        nxt = page.get("NextShardIterator")
        if not nxt:
            st.done, st.iterator = True, None
            return None
        if records:
            return nxt
        if st.seq is None and sid in self.latest:
            st.iterator = nxt  # anchor LATEST so the next tick continues from here
        self.empty_pages[sid] = self.empty_pages.get(sid, 0) + 1
        return nxt if self._closed(sid) and self.empty_pages[sid] < MAX_EMPTY_PAGES else None


def read_changes(streams_client: Any, stream_arns: dict[str, str], cursor: StreamCursor, start_position: str,
                 max_records: int, deadline: float, *, clock: Callable[[], float] = time.monotonic,
                 ) -> tuple[list[Change], StreamCursor, list[str]]:
    """Read at most ``max_records`` records, stopping at ``deadline`` (a ``clock()`` value).

    Shards of all tables are read one page at a time in turn, so a busy table cannot starve
    the others. ``stream_arns`` maps table kind -> current stream ARN; kinds missing from it
    keep their cursor entry. A new ARN for a known kind restarts at TRIM_HORIZON; a kind
    never seen starts at ``start_position``. The input cursor is not modified.
    """
    if start_position not in START_POSITIONS:
        raise ValueError(f"start position must be one of {START_POSITIONS}, got {start_position!r}")
    new, changes, warnings = copy.deepcopy(cursor), [], []
    queue: deque[tuple[_TableReader, str, str]] = deque()

    def schedule(reader: _TableReader) -> None:
        while ready := reader.ready():
            for sid in ready:
                if (it := reader.open(sid)) is not None:
                    queue.append((reader, sid, it))

    for kind, arn in sorted(stream_arns.items()):
        state, position = new.streams.get(kind), start_position
        if state is not None and state.arn != arn:
            warnings.append(f"{kind}: stream ARN changed (table recreated?); reading the new stream from TRIM_HORIZON")
            state, position = None, "TRIM_HORIZON"
        if state is None:
            state = new.streams[kind] = StreamState(arn)
        else:
            position = "TRIM_HORIZON"  # new shards of a known stream are read from their start
        schedule(_TableReader(streams_client, kind, arn, state, position, changes, warnings))

    def taken() -> int:
        return sum(1 for c in changes if not c.resync)

    while queue and taken() < max_records and clock() < deadline:
        share = -(-(max_records - taken()) // len(queue))  # ceil: an equal share per active shard
        reader, sid, it = queue.popleft()
        nxt = reader.fetch(sid, it, min(PAGE_LIMIT, share))
        if nxt:
            queue.append((reader, sid, nxt))
        elif reader.state.shards[sid].done:
            schedule(reader)  # its children may be ready now
    return changes, new, warnings


# ---- mapping --------------------------------------------------------------------------


def hour_of(moment: datetime) -> datetime:
    """The aware UTC hour containing ``moment`` (naive datetimes are taken as UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def partitions_for_record(table_kind: str | Table, record: Mapping[str, Any]) -> set[datetime]:
    """UTC hours (aware datetimes) a stream record touches; empty for a snapshot table (Instances).

    A time attribute that is part of the key (Metrics' ``timestamp``) cannot change: one
    hour. Otherwise (Alerts' ``created_at``) both images count, so an item moved between
    hours re-syncs both. Raises ``ContractError`` when the record has no usable key/time:
    such items are rejected by the load anyway, so the sensor counts and skips them instead
    of guessing an hour.
    """
    try:
        table = tables.get(table_kind)
    except KeyError:
        raise ValueError(f"unknown table kind {table_kind!r}") from None
    dyn = record.get("dynamodb") if isinstance(record, Mapping) else None
    if not isinstance(dyn, Mapping):
        raise ContractError("stream record without a dynamodb section")
    keys, images = dyn.get("Keys"), [dyn.get("NewImage"), dyn.get("OldImage")]
    sources = [s for s in (keys, *images) if isinstance(s, Mapping)]
    (key, kind) = table.spec.hash_key
    (ident if kind == "S" else number)(next((s for s in sources if key in s), {}), key)
    if table.time is None:
        return set()
    attribute = table.time[0]
    if attribute in table.spec.key_names():
        return {hour_of(epoch_ms(next((s for s in sources if attribute in s), {}), attribute))}
    hours, errors = set(), []
    for image in [i for i in images if isinstance(i, Mapping)]:
        try:
            hours.add(hour_of(epoch_ms(image, attribute)))
        except ContractError as exc:
            errors.append(exc)
    if not hours:
        raise errors[0] if errors else ContractError(f"{attribute}: no image in the stream record")
    return hours


def written_at(record: Mapping[str, Any] | None, default: float) -> float:
    """Epoch seconds the stream record was written (``ApproximateCreationDateTime``, whole
    seconds, DynamoDB's clock); ``default`` when absent or unreadable."""
    dyn = record.get("dynamodb") if isinstance(record, Mapping) else None
    value = dyn.get("ApproximateCreationDateTime") if isinstance(dyn, Mapping) else None
    try:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError):
        pass
    return default


def resync_hours(now: datetime) -> set[datetime]:
    """The hours a re-sync covers: every hour overlapping the stream retention up to now."""
    first, last = hour_of(now - RETENTION), hour_of(now)
    return {first + timedelta(hours=i) for i in range(int((last - first) / timedelta(hours=1)) + 1)}
