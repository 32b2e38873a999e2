"""Pure tests of the stream reader: cursor format, record -> hour mapping, shard following.

moto 5.2.5 gives every table one never-closing shard (the same shard id for every table, no
ParentShardId, no EndingSequenceNumber), never trims and never expires iterators. Shard
splits, closed shards, trimming and expired iterators are therefore tested here against a
small in-memory client raising the same ``ClientError`` codes as AWS; everything moto can
do is tested against moto in ``test_change_sensor.py``.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from nephos_pipeline.orchestration.streams import (
    CURSOR_VERSION,
    TABLE_KINDS,
    ShardState,
    StreamCursor,
    StreamState,
    partitions_for_record,
    read_changes,
    resync_hours,
)
from nephos_pipeline.tables.contract import ContractError

# ---- a fake DynamoDB Streams client ----------------------------------------------------


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


def metric_record(seq: int, ts_ms: int, event: str = "INSERT", instance_id: str = "i-1") -> dict[str, Any]:
    keys = {"instance_id": {"S": instance_id}, "timestamp": {"N": str(ts_ms)}}
    image_key = "OldImage" if event == "REMOVE" else "NewImage"
    return {"eventName": event, "dynamodb": {"SequenceNumber": str(seq), "Keys": keys, image_key: dict(keys)}}


@dataclass
class FakeShard:
    shard_id: str
    records: list[dict[str, Any]] = field(default_factory=list)
    parent: str | None = None
    closed: bool = False
    trimmed_below: int = 0  # records with a lower sequence number are gone

    def seqs(self) -> list[int]:
        return [int(r["dynamodb"]["SequenceNumber"]) for r in self.records]


class FakeStreamsClient:
    """describe_stream (paginated, 2 shards per page), get_shard_iterator, get_records."""

    def __init__(self, streams: dict[str, list[FakeShard]]) -> None:
        self.streams = streams
        self.iterators: dict[str, tuple[str, str, int]] = {}  # token -> (arn, shard, next position)
        self.expired: set[str] = set()
        self.calls: list[str] = []
        self._ids = itertools.count()

    def shard(self, arn: str, shard_id: str) -> FakeShard:
        return next(s for s in self.streams[arn] if s.shard_id == shard_id)

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:  # noqa: N803
        self.calls.append("describe_stream")
        shards = self.streams[StreamArn]
        start = 0 if ExclusiveStartShardId is None else [s.shard_id for s in shards].index(ExclusiveStartShardId) + 1
        page = shards[start : start + 2]
        desc: dict[str, Any] = {"StreamArn": StreamArn, "Shards": []}
        for s in page:
            rng = {"StartingSequenceNumber": str(min(s.seqs(), default=0))}
            if s.closed:
                rng["EndingSequenceNumber"] = str(max(s.seqs(), default=0))
            desc["Shards"].append({"ShardId": s.shard_id, "SequenceNumberRange": rng,
                                   **({"ParentShardId": s.parent} if s.parent else {})})
        if start + 2 < len(shards):
            desc["LastEvaluatedShardId"] = page[-1].shard_id
        return {"StreamDescription": desc}

    def _token(self, arn: str, shard_id: str, position: int) -> str:
        token = f"it-{next(self._ids)}"
        self.iterators[token] = (arn, shard_id, position)
        return token

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str,  # noqa: N803
                           SequenceNumber: str | None = None) -> dict[str, Any]:  # noqa: N803
        self.calls.append(f"get_shard_iterator:{ShardId}:{ShardIteratorType}")
        shard = self.shard(StreamArn, ShardId)
        if ShardIteratorType == "TRIM_HORIZON":
            position = shard.trimmed_below
        elif ShardIteratorType == "LATEST":
            position = max(shard.seqs(), default=-1) + 1
        else:
            seq = int(SequenceNumber or 0)
            if seq < shard.trimmed_below:
                raise client_error("TrimmedDataAccessException", "GetShardIterator")
            position = seq + (1 if ShardIteratorType == "AFTER_SEQUENCE_NUMBER" else 0)
        return {"ShardIterator": self._token(StreamArn, ShardId, position)}

    def get_records(self, ShardIterator: str, Limit: int = 1000) -> dict[str, Any]:  # noqa: N803
        self.calls.append("get_records")
        if ShardIterator in self.expired or ShardIterator not in self.iterators:
            raise client_error("ExpiredIteratorException", "GetRecords")
        arn, shard_id, position = self.iterators[ShardIterator]
        shard = self.shard(arn, shard_id)
        if position < shard.trimmed_below:
            raise client_error("TrimmedDataAccessException", "GetRecords")
        records = [r for r in shard.records if int(r["dynamodb"]["SequenceNumber"]) >= position][:Limit]
        nxt = int(records[-1]["dynamodb"]["SequenceNumber"]) + 1 if records else position
        at_end = shard.closed and nxt > max(shard.seqs(), default=-1)
        out: dict[str, Any] = {"Records": records}
        if not at_end:
            out["NextShardIterator"] = self._token(arn, shard_id, nxt)
        return out


# ---- cursor ---------------------------------------------------------------------------

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00"
H = datetime(2026, 3, 1, 10, tzinfo=UTC)
MS = int(H.timestamp() * 1000)


def test_cursor_round_trip() -> None:
    cursor = StreamCursor(
        streams={"metrics": StreamState(ARN, {"s1": ShardState("42"), "s0": ShardState("7", done=True),
                                             "s2": ShardState(iterator="it-9")})},
        pending={"2026-03-01-10:00": "ab12"},
    )
    parsed, warning = StreamCursor.from_json(cursor.to_json())
    assert warning is None and parsed == cursor
    assert json.loads(cursor.to_json())["v"] == CURSOR_VERSION


@pytest.mark.parametrize("text", [None, ""])
def test_no_cursor_is_a_fresh_start_without_warning(text: str | None) -> None:
    assert StreamCursor.from_json(text) == (StreamCursor(), None)


@pytest.mark.parametrize(
    "text",
    [
        "not json", "[]", "42", '{"streams": {}}',  # no version: the pre-versioned format
        '{"v": 0, "streams": {}}', '{"v": 2, "streams": {}}',
        '{"v": 1, "streams": {"orders": {"arn": "x", "shards": {}}}}',
        '{"v": 1, "streams": {"metrics": {"arn": "x", "shards": {"s": {"seq": "12a"}}}}}',
        '{"v": 1, "streams": {"metrics": {"arn": "", "shards": {}}}}',
        '{"v": 1, "streams": {}, "pending": {"yesterday": "ab"}}',
        "[" * 100_000,  # deep nesting: RecursionError inside json
    ],
)
def test_corrupt_or_old_cursor_resets_with_a_warning(text: str) -> None:
    cursor, warning = StreamCursor.from_json(text)
    assert cursor == StreamCursor()
    assert warning and "reset" in warning


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_cursor_never_raises(text: str) -> None:
    cursor, _ = StreamCursor.from_json(text)
    assert isinstance(cursor, StreamCursor)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["metrics", "42", "v"]),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["v", "streams", "pending", "metrics", "arn", "shards", "seq", "done", "it", "x"]),
        kids, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_cursor_never_raises_and_valid_ones_round_trip(body: object) -> None:
    cursor, warning = StreamCursor.from_json(json.dumps(body))
    if warning is None:
        assert StreamCursor.from_json(cursor.to_json()) == (cursor, None)


# ---- mapping --------------------------------------------------------------------------


def test_metric_maps_to_the_hour_of_its_timestamp_from_keys_or_images() -> None:
    assert partitions_for_record("metrics", metric_record(1, MS + 59 * 60_000)) == {H}
    assert partitions_for_record("metrics", metric_record(2, MS, event="REMOVE")) == {H}
    keys_only = {"dynamodb": {"Keys": {"instance_id": {"S": "i"}, "timestamp": {"N": str(MS)}}}}
    assert partitions_for_record("metrics", keys_only) == {H}


def _alert(new_ms: int | None, old_ms: int | None) -> dict:
    def image(ms: int) -> dict:
        return {"alert_id": {"S": "a"}, "created_at": {"N": str(ms)}}

    dyn: dict = {"Keys": {"alert_id": {"S": "a"}}}
    if new_ms is not None:
        dyn["NewImage"] = image(new_ms)
    if old_ms is not None:
        dyn["OldImage"] = image(old_ms)
    return {"dynamodb": dyn}


def test_alert_maps_to_created_at_hours_of_both_images() -> None:
    assert partitions_for_record("alerts", _alert(MS, None)) == {H}
    assert partitions_for_record("alerts", _alert(None, MS)) == {H}  # REMOVE
    assert partitions_for_record("alerts", _alert(MS + 3_600_000, MS)) == {H, H + timedelta(hours=1)}


def test_instances_are_unpartitioned() -> None:
    record = {"dynamodb": {"Keys": {"instance_id": {"S": "i-1"}}}}
    assert partitions_for_record("instances", record) == set()


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("metrics", metric_record(1, MS // 1000)),  # epoch seconds, not milliseconds
        ("metrics", {"dynamodb": {"Keys": {"instance_id": {"S": "i"}}}}),
        ("metrics", {"eventName": "INSERT"}),
        ("alerts", _alert(None, None)),
        ("alerts", {"dynamodb": {"NewImage": {"alert_id": {"S": "a"}, "created_at": {"S": "yesterday"}}}}),
        ("instances", {"dynamodb": {"Keys": {"instance_id": {"S": ""}}}}),
    ],
)
def test_records_without_usable_key_or_time_are_contract_errors(kind: str, record: dict) -> None:
    with pytest.raises(ContractError):
        partitions_for_record(kind, record)


_attr = st.one_of(st.fixed_dictionaries({"N": st.text(max_size=15)}), st.fixed_dictionaries({"S": st.text(max_size=5)}),
                  st.integers(), st.none())


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TABLE_KINDS), st.dictionaries(
    st.sampled_from(["Keys", "NewImage", "OldImage", "SequenceNumber"]),
    st.dictionaries(st.sampled_from(["instance_id", "timestamp", "alert_id", "created_at"]), _attr) | st.none()))
def test_mapping_only_ever_raises_contract_errors(kind: str, dyn: dict) -> None:
    try:
        hours = partitions_for_record(kind, {"dynamodb": dyn})
    except ContractError:
        return
    assert all(h.minute == 0 and h.tzinfo is not None for h in hours)


def test_resync_window_covers_the_retention() -> None:
    now = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    hours = resync_hours(now)
    assert min(hours) == datetime(2026, 3, 1, 10, tzinfo=UTC) and max(hours) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert len(hours) == 25


# ---- reading with the fake client (what moto cannot emulate) ---------------------------


def _read(client: FakeStreamsClient, cursor: StreamCursor, start: str = "TRIM_HORIZON", max_records: int = 100,
          arns: dict[str, str] | None = None):
    return read_changes(client, arns or {"metrics": ARN}, cursor, start, max_records, time.monotonic() + 30)


def _seqs(changes) -> list[int]:
    return [int(c.sequence_number) for c in changes if not c.resync]


def test_closed_parent_is_read_before_its_children_and_never_again() -> None:
    parent = FakeShard("s-parent", [metric_record(i, MS) for i in range(1, 4)], closed=True)
    kids = [FakeShard("s-kid-a", [metric_record(10, MS)], parent="s-parent"),
            FakeShard("s-kid-b", [metric_record(20, MS)], parent="s-parent", closed=True),
            FakeShard("s-grandkid", [metric_record(30, MS)], parent="s-kid-b")]
    client = FakeStreamsClient({ARN: [*kids, parent]})  # listing order is not reading order
    changes, cursor, warnings = _read(client, StreamCursor())
    assert _seqs(changes) == [1, 2, 3, 10, 20, 30] and warnings == []
    shards = cursor.streams["metrics"].shards
    assert shards["s-parent"].done and shards["s-kid-b"].done and not shards["s-kid-a"].done
    kids[0].records.append(metric_record(11, MS))
    changes, cursor2, _ = _read(client, cursor)
    assert _seqs(changes) == [11]
    client.streams[ARN] = [kids[0], kids[2]]  # parents trimmed away after being read: no re-sync
    changes, cursor3, warnings = _read(client, cursor2)
    assert changes == [] and warnings == [] and set(cursor3.streams["metrics"].shards) == {"s-kid-a", "s-grandkid"}


def test_trimmed_records_warn_resync_and_restart_at_trim_horizon() -> None:
    shard = FakeShard("s1", [metric_record(i, MS) for i in range(1, 6)])
    client = FakeStreamsClient({ARN: [shard]})
    _, cursor, _ = _read(client, StreamCursor(), max_records=2)
    shard.trimmed_below = 4  # the sensor was off for more than 24 hours
    changes, cursor2, warnings = _read(client, cursor)
    assert [c.resync for c in changes] == [True, False, False] and _seqs(changes) == [4, 5]
    assert changes[0].sequence_number == "2" and "trimmed" in warnings[0] and "re-syncing" in warnings[0]
    assert cursor2.streams["metrics"].shards["s1"].seq == "5"


def test_unfinished_shard_that_vanished_is_resynced() -> None:
    client = FakeStreamsClient({ARN: [FakeShard("s1", [metric_record(1, MS), metric_record(2, MS)], closed=True)]})
    _, cursor, _ = _read(client, StreamCursor(), max_records=1)
    client.streams[ARN] = [FakeShard("s2", [metric_record(9, MS)], parent="s1")]
    changes, _, warnings = _read(client, cursor)
    assert changes[0].resync and changes[0].shard_id == "s1" and _seqs(changes) == [9] and "left the stream" in warnings[0]


def test_latest_skips_history_anchors_and_expired_anchor_reanchors() -> None:
    closed = FakeShard("s0", [metric_record(1, MS)], closed=True)
    open_ = FakeShard("s1", [metric_record(5, MS)], parent="s0")
    client = FakeStreamsClient({ARN: [closed, open_]})
    changes, cursor, _ = _read(client, StreamCursor(), start="LATEST")
    assert changes == [] and cursor.streams["metrics"].shards["s1"].iterator
    open_.records.append(metric_record(6, MS))
    changes, cursor2, _ = _read(client, cursor, start="LATEST")
    assert _seqs(changes) == [6] and cursor2.streams["metrics"].shards["s1"] == ShardState("6")
    # an anchor that expired before any record arrived: warn and anchor again
    fresh = FakeStreamsClient({ARN: [FakeShard("s1", [metric_record(5, MS)])]})
    _, anchored, _ = _read(fresh, StreamCursor(), start="LATEST")
    fresh.expired.add(anchored.streams["metrics"].shards["s1"].iterator)
    changes, _, warnings = _read(fresh, anchored)
    assert changes == [] and "expired" in warnings[0]


def test_work_is_bounded_shared_between_tables_and_continues() -> None:
    arn2 = ARN.replace("table/t", "table/u")
    client = FakeStreamsClient({ARN: [FakeShard("s1", [metric_record(i, MS) for i in range(1, 8)])],
                                arn2: [FakeShard("s1", [metric_record(i, MS) for i in range(1, 8)])]})
    arns = {"metrics": ARN, "alerts": arn2}
    cursor, seen = StreamCursor(), []
    for _ in range(10):
        changes, cursor, _ = _read(client, cursor, max_records=3, arns=arns)
        assert len(changes) <= 3
        seen += [(c.table_kind, c.sequence_number) for c in changes]
        if not changes:
            break
    assert sorted(seen) == sorted((k, str(i)) for k in arns for i in range(1, 8)) and len(set(seen)) == len(seen)
    first_tick = read_changes(client, arns, StreamCursor(), "TRIM_HORIZON", 2, time.monotonic() + 30)[0]
    assert {c.table_kind for c in first_tick} == {"metrics", "alerts"}  # no starvation


def test_deadline_stops_reading_and_input_cursor_is_untouched() -> None:
    client = FakeStreamsClient({ARN: [FakeShard("s1", [metric_record(1, MS)])]})
    before = StreamCursor()
    changes, after, _ = read_changes(client, {"metrics": ARN}, before, "TRIM_HORIZON", 100, deadline=0.0)
    assert changes == [] and "get_records" not in client.calls and before == StreamCursor()
    with pytest.raises(ValueError, match="start position"):
        read_changes(client, {"metrics": ARN}, before, "EARLIEST", 100, time.monotonic() + 1)
