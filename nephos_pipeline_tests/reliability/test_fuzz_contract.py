"""Fuzzed DynamoDB items, valid and malformed, in every attribute type: nothing crashes, nothing is lost.

Two levels:

* the contract converters (``ingest.records``) get arbitrary shapes, including ones
  DynamoDB itself would refuse (non-map items, two-key attribute values, numbers that are
  not numbers, NaN, wrong Python types): each call must return, and
  ``items == loaded + rejected`` exactly, every reject carrying a reason and its raw item;
  items built to satisfy the contract must all load;
* extract-and-load end to end: items DynamoDB accepts are written to moto, one extract
  window is read and MERGEd, and the counts must add up exactly against what was written
  (the window's items = loaded + REJECTS rows) and the typed tables must equal the contract
  applied to a full Scan.

``NEPHOS_RUN_SLOW=1`` raises the number of examples tenfold.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nephos_pipeline import metric_catalogue, tables
from nephos_pipeline.dynamodb.tables import ensure_tables, table_names_by_logical_name
from nephos_pipeline.ingest import extraction, records
from nephos_pipeline.ingest.merge import merge_window
from nephos_pipeline.settings import TableNames
from nephos_pipeline.tables import METRICS, contract
from nephos_pipeline_tests.helpers import dynamodb_resource, ms
from nephos_pipeline_tests.reliability.common import expected_state, warehouse_state
from nephos_pipeline_tests.reliability.conftest import slow_enabled

SCALE = 10 if slow_enabled() else 1
HOSTILE = ["'; DROP TABLE METRICS; --", "<script>alert(1)</script>", "Ignore previous instructions", "%(x)s {0} $1",
           "Robert'); DELETE FROM INSTANCES;--", "\u202eevil", "a\x00b", "zero\u200bwidth", "", " "]
KNOWN = sorted(metric_catalogue.known_metrics())

# ---- attribute values ----------------------------------------------------------------

texts = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE))
number_strings = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**6, max_value=10**6).map(str),
    st.sampled_from(["0", "-0", "100", "100.0000001", "1E+2", "9.9999999999999999999999999999999999999E+125",
                     "1E-130", "-1E-130", "1767225600000", "1772359200"]),
)
bad_number_strings = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "abc", "", " 1", "0x10", "1,5", "--1"])


def attribute(depth: int = 2, binary_sets: bool = True) -> st.SearchStrategy:
    """One AttributeValue of any DynamoDB type (S, N, B, BOOL, NULL, M, L, SS, NS and BS).

    ``binary_sets=False`` leaves BS out: moto 5.1 fails a Scan with a ProjectionExpression
    (HTTP 500) on items holding a binary set, which real DynamoDB does not (see
    docs/reliability.md); the Instances table is read with such a Scan.
    """
    sets = [st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=3, unique=True).map(lambda v: {"BS": v})]
    scalar = st.one_of(
        texts.map(lambda v: {"S": v}),
        number_strings.map(lambda v: {"N": v}),
        st.binary(max_size=16).map(lambda v: {"B": v}),
        st.booleans().map(lambda v: {"BOOL": v}),
        st.just({"NULL": True}),
        st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
        st.lists(st.integers(-1000, 1000), min_size=1, max_size=4, unique=True).map(lambda v: {"NS": [str(x) for x in v]}),
        *(sets if binary_sets else []),
    )
    if depth <= 0:
        return scalar
    inner = attribute(depth - 1, binary_sets)
    return st.one_of(scalar, st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=3).map(lambda v: {"M": v}),
                     st.lists(inner, max_size=3).map(lambda v: {"L": v}))


malformed = st.one_of(  # shapes DynamoDB would never return: the converters must still cope
    bad_number_strings.map(lambda v: {"N": v}),
    st.sampled_from([{}, {"S": "a", "N": "1"}, {"N": 5}, {"S": None}, {"N": None}, {"M": "not a map"}, {"M": {"k": 1}},
                     {"L": "x"}, {"SS": []}, "plain string", 42, None, ["N", "1"], {"X": "unknown type"}]),
)
any_attribute = st.one_of(attribute(), malformed)


def in_range_number(name: str) -> st.SearchStrategy:
    hi = 100.0 if name in metric_catalogue.percent_metrics() else 1e12
    return st.floats(0, hi, allow_nan=False).map(lambda v: {"N": repr(v)})


valid_metric_item = st.builds(
    lambda iid, ts, values: {"instance_id": {"S": iid}, "timestamp": {"N": str(ts)}, **values},
    st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and not contract._CONTROL.search(s)),
    st.integers(contract.MIN_MS, contract.MAX_MS - 1),
    st.lists(st.sampled_from(KNOWN + ["gpu_temp", "queue_depth"]), min_size=1, max_size=5, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({n: in_range_number(n) for n in names})),
)


def item_of(key_fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """An item with the given fields (each maybe missing) plus arbitrary extra attributes."""
    fields = {name: st.one_of(strategy, any_attribute) for name, strategy in key_fields.items()}
    return st.builds(
        lambda base, extra: {**extra, **{k: v for k, v in base.items() if v is not None}},
        st.fixed_dictionaries({k: st.one_of(st.none(), v) for k, v in fields.items()}),
        st.dictionaries(st.one_of(st.sampled_from(KNOWN), st.text(min_size=1, max_size=12)), any_attribute, max_size=5),
    )


ms_values = st.integers(contract.MIN_MS - 10, contract.MAX_MS + 10).map(lambda v: {"N": str(v)})
any_item = {
    "metrics": item_of({"instance_id": texts.map(lambda v: {"S": v}), "timestamp": ms_values}),
    "alerts": item_of({"alert_id": texts.map(lambda v: {"S": v}), "instance_id": texts.map(lambda v: {"S": v}),
                       "created_at": ms_values, "severity": st.sampled_from(contract.SEVERITIES).map(lambda v: {"S": v}),
                       "status": st.sampled_from(contract.ALERT_STATUSES).map(lambda v: {"S": v}),
                       "metric": texts.map(lambda v: {"S": v}), "message": texts.map(lambda v: {"S": v})}),
    "instances": item_of({"instance_id": texts.map(lambda v: {"S": v}), "hostname": texts.map(lambda v: {"S": v}),
                          "tags": st.dictionaries(st.text(max_size=8), attribute(0), max_size=3).map(lambda v: {"M": v})}),
}



def check_batch(kind: str, items: list, batch: records.Batch) -> None:
    assert batch.items == len(items)
    assert batch.loaded_items + len(batch.rejects) == batch.items
    for reject in batch.rejects:
        assert reject.reason and isinstance(reject.reason, str)
        json.loads(reject.raw_item)  # always valid JSON, whatever the item was
    if kind == "metrics":
        assert len(batch.rows) >= batch.loaded_items
        for iid, ts, name, value in batch.rows:
            assert isinstance(iid, str) and isinstance(name, str) and isinstance(ts, datetime)
            assert isinstance(value, float) and math.isfinite(value)
    else:
        assert len(batch.rows) == batch.loaded_items


@settings(max_examples=150 * SCALE, deadline=None, database=None)
@given(kind=st.sampled_from(sorted(any_item)), data=st.data())
def test_converters_never_crash_and_every_item_is_loaded_or_rejected(kind: str, data: st.DataObject) -> None:
    items = data.draw(st.lists(st.one_of(any_item[kind], any_attribute), max_size=8), label="items")
    check_batch(kind, items, records.rows(tables.get(kind), items))


@settings(max_examples=100 * SCALE, deadline=None, database=None)
@given(st.lists(valid_metric_item, min_size=1, max_size=5))
def test_items_that_meet_the_contract_always_load(items: list) -> None:
    batch = records.rows(METRICS, items)
    assert batch.rejects == [] and batch.loaded_items == len(items)
    assert len(batch.rows) == sum(len(i) - 2 for i in items)


# ---- end to end through moto and the warehouse ----------------------------------------

H = datetime(2026, 3, 2, 0, 0)
IDS = ["web-01", "'; DROP TABLE METRICS; --", "<b>db</b>", "caf\u00e9-\U0001F600"]


def _put(client, table: str, item: dict) -> bool:
    """True if DynamoDB accepted the item (items it refuses never exist, so are not counted)."""
    try:
        client.put_item(TableName=table, Item=item)
        return True
    except ClientError:
        return False


def _alert_in_window(item: dict, base: int) -> bool:
    created = item.get("created_at")
    if not isinstance(created, dict) or "N" not in created:
        return True
    value = Decimal(created["N"])
    return base <= value < base + 3_600_000 or not (contract.MIN_MS <= value < contract.MAX_MS)


e2e_metric = st.builds(
    lambda iid, offset, extra: {**extra, "instance_id": {"S": iid}, "timestamp": {"N": str(offset)}},
    st.sampled_from(IDS), st.integers(0, 3_599_999), st.dictionaries(
        st.one_of(st.sampled_from(KNOWN), st.text(min_size=1, max_size=10).filter(lambda s: s not in contract.METRIC_KEYS)),
        st.one_of(attribute(1), st.sampled_from(KNOWN).flatmap(in_range_number)), min_size=1, max_size=4))
e2e_alert = st.builds(
    lambda aid, created, extra: {**extra, "alert_id": {"S": aid}, **({"created_at": created} if created else {})},
    st.text(min_size=1, max_size=20), st.one_of(st.none(), st.integers(0, 3_599_999).map(lambda o: ("offset", o)),
                                                attribute(0)),
    st.fixed_dictionaries({}, optional={
        "instance_id": st.one_of(st.sampled_from(IDS).map(lambda v: {"S": v}), attribute(0)),
        "severity": st.one_of(st.sampled_from(contract.SEVERITIES).map(lambda v: {"S": v}), attribute(0)),
        "status": st.one_of(st.sampled_from(contract.ALERT_STATUSES).map(lambda v: {"S": v}), attribute(0)),
        "metric": st.one_of(st.just({"S": "cpu_usage"}), attribute(0)),
        "message": st.one_of(texts.map(lambda v: {"S": v}), attribute(1)),
        "value": st.one_of(number_strings.map(lambda v: {"N": v}), attribute(0))}))
e2e_instance_extra = st.fixed_dictionaries({}, optional={
    "hostname": st.one_of(texts.map(lambda v: {"S": v}), attribute(0, False)),
    "tags": st.one_of(st.dictionaries(st.text(min_size=1, max_size=8), texts.map(lambda v: {"S": v}), max_size=3)
                      .map(lambda v: {"M": v}), attribute(1, False)),
    "created_at": st.one_of(ms_values, attribute(0, False)),
    "region": attribute(0, False)})


@settings(max_examples=6 * SCALE, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
@given(metrics=st.lists(e2e_metric, max_size=12), alerts=st.lists(e2e_alert, max_size=6),
       instances=st.lists(e2e_instance_extra, min_size=len(IDS), max_size=len(IDS)))
def test_extract_and_load_of_fuzzed_items_adds_up_exactly(dynamodb_server, warehouse, metrics, alerts,
                                                          instances) -> None:
    suffix = uuid.uuid4().hex[:10]
    names = TableNames(f"fz-m-{suffix}", f"fz-a-{suffix}", f"fz-i-{suffix}")
    client = dynamodb_server.client()
    ensure_tables(client, names)
    base = ms(H)
    try:
        written: dict[str, dict] = {"metrics": {}, "alerts": {}, "instances": {}}
        for iid, extra in zip(IDS, instances, strict=True):
            item = {**extra, "instance_id": {"S": iid}}
            if _put(client, names.instances, item):
                written["instances"][iid] = item
        for item in metrics:
            item = {**item, "timestamp": {"N": str(base + int(item["timestamp"]["N"]))}}
            if _put(client, names.metrics, item):
                written["metrics"][(item["instance_id"]["S"], item["timestamp"]["N"])] = item
        for item in alerts:
            created = item.get("created_at")
            if isinstance(created, tuple):
                item = {**item, "created_at": {"N": str(base + created[1])}}
            if _put(client, names.alerts, item):
                written["alerts"][item["alert_id"]["S"]] = item

        resource = dynamodb_resource(dynamodb_server.endpoint_url, names)
        # An extract alone reads registered ids and ids known to report (earlier examples share
        # this warehouse); an id neither is found by the sensor or the reconciliation, not here.
        known = set(warehouse.query("SELECT INSTANCE_ID FROM METRIC_INSTANCE_IDS")["instance_id"])
        now = datetime(2026, 3, 3)
        end = H + timedelta(hours=1)
        got = {kind: extraction.extract(warehouse, resource, kind, H, end, now) for kind in ("instances", "metrics", "alerts")}
        with warehouse.connection() as conn:
            for kind in ("instances", "metrics", "alerts"):
                window = (None, None) if kind == "instances" else (H, end)
                merge_window(warehouse, conn, kind, *window, now)

        readable = {k for k in written["instances"]} | known
        in_window = {
            "instances": len(written["instances"]),
            "metrics": sum(1 for (iid, _ts) in written["metrics"] if iid in readable),
            # the alerts scan returns the window's alerts plus every alert whose created_at is unusable
            "alerts": sum(1 for a in written["alerts"].values() if _alert_in_window(a, base)),
        }
        for kind, result in got.items():
            b = result.batch
            assert b.items == in_window[kind], kind
            assert b.loaded_items + len(b.rejects) == b.items, kind
            window = "WINDOW_START IS NULL" if kind == "instances" else "WINDOW_START = '2026-03-02 00:00:00'"
            stored = warehouse.query(f"SELECT COUNT(*) AS n FROM REJECTS WHERE SOURCE_TABLE = '{kind}' AND {window}")  # noqa: S608
            assert stored.n[0] == len(b.rejects), kind
        expected = expected_state(client, names, [(H, end)], instance_ids=readable)
        actual = warehouse_state(warehouse)
        assert actual == expected
    finally:
        for table in table_names_by_logical_name(names).values():
            client.delete_table(TableName=table)
