"""Extract: items per second from the local DynamoDB server, pipeline vs a bare Query loop.

The local server (``nephos_pipeline.dynamodb.local_server``, moto) runs in its own process,
started and stopped here. Items are the simulator's (``FleetModel``), written with the
simulator's writer (batch writes).

Pipeline path timed: ``nephos_pipeline.ingest.extraction.extract_metrics`` for one hourly
window: the Instances scan for ids, one paginated Query per instance (4 in flight), the
contract check, staging and the landing swap into the local warehouse. Baseline, same
items, same server, same run: a bare boto3 paginated Query loop over the same instances
and hour that only collects the raw items (also reported: the same loop with 4 threads).

Read cost: every call is counted per operation and table (botocore ``after-call`` hook),
with the Count and ScannedCount of each Query page. The ratio is items read by the hourly
sync / items in that hour, measured with 1 day and with N days of history in the table.

Growth: the metrics table holds the whole 16x fleet for the hour (plus 10 minutes either
side); the Instances table lists 1x, 4x or 16x of the hosts. Keeping the table the same
size matters on moto: its Query walks and sorts *every* item of the table on each call
(``moto/dynamodb/models/table.py``, ``Table.query`` -> ``all_items()``), so on moto a Query
costs O(table size), unlike DynamoDB, where it costs O(items returned).
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import figure, new_warehouse, scaling
from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.dynamodb.tables import TABLE_SPECS, ensure_tables
from nephos_pipeline.ingest.extraction import extract_metrics
from nephos_pipeline.settings import TableNames
from nephos_pipeline.simulator.fleet import FleetModel, metric_items
from nephos_pipeline.simulator.spec import FleetSpec, to_ms
from nephos_pipeline.simulator.writer import serialize, write_items

ROOT = Path(__file__).resolve().parents[1]
HOUR_START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MARGIN = timedelta(minutes=10)
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"base": 1, "history_instances": 1, "history_days": 2, "repeats": 1},
    "quick": {"base": 3, "history_instances": 2, "history_days": 7, "repeats": 5},
    "full": {"base": 6, "history_instances": 2, "history_days": 30, "repeats": 3},
}

SERVER = (
    "import sys\n"
    "from nephos_pipeline.dynamodb.local_server import LocalDynamoDB\n"
    "s = LocalDynamoDB(port={port}, host='127.0.0.1', region='us-east-1').start()\n"
    "print(s.endpoint_url, flush=True)\n"
    "sys.stdin.read()\n"
    "s.stop()\n"
)


class ServerProcess:
    """moto in a child process on a free loopback port; stopped by closing its stdin."""

    def __enter__(self) -> ServerProcess:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port)], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1"):
            self.proc.kill()
            raise RuntimeError("local DynamoDB server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except Exception:  # noqa: BLE001 - make sure our own child is gone
            self.proc.kill()
            self.proc.wait(timeout=10)


CALLS: Counter[tuple[str, str]] = Counter()
READ: Counter[str] = Counter()


def _remember_table(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["bench_table"] = params.get("TableName", "?") if isinstance(params, dict) else "?"


def _count(model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    table = context.get("bench_table", "?")
    CALLS[(model.name, table)] += 1
    if model.name in ("Query", "Scan"):
        READ[f"{model.name}:{table}:count"] += int(parsed.get("Count", 0))
        READ[f"{model.name}:{table}:scanned"] += int(parsed.get("ScannedCount", 0))


class CountingDynamoDB(DynamoDBResource):
    """The pipeline's resource, whose clients count every call per operation and table."""

    def client(self) -> Any:
        client = super().client()
        client.meta.events.register("provide-client-params.dynamodb", _remember_table)
        client.meta.events.register("after-call.dynamodb", _count)
        return client


def _resource(url: str, names: TableNames) -> CountingDynamoDB:
    return CountingDynamoDB(region_name="us-east-1", endpoint_url=url, aws_access_key_id="local",
                            aws_secret_access_key="local", max_attempts=8, metrics_table=names.metrics,
                            alerts_table=names.alerts, instances_table=names.instances)


def bare_loop(client: Any, table: str, ids: list[str], start_ms: int, end_ms: int, workers: int = 1) -> int:
    """The baseline: paginated Query per instance, raw items collected, nothing else."""

    def one(iid: str) -> int:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "instance_id = :id AND #ts BETWEEN :s AND :e",
            "ExpressionAttributeNames": {"#ts": "timestamp"},
            "ExpressionAttributeValues": {":id": {"S": iid}, ":s": {"N": str(start_ms)}, ":e": {"N": str(end_ms - 1)}},
        }
        items: list[Any] = []
        while True:
            page = client.query(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return len(items)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    if workers <= 1:
        return sum(one(i) for i in ids)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, ids))


def _write(client: Any, names: TableNames, model: FleetModel, start: datetime, end: datetime) -> int:
    def items() -> Any:
        for host, frame in model.windows(to_ms(start), to_ms(end)):
            for item in metric_items(host, frame):
                yield "metrics", item

    return write_items(client, names, items(), workers=4).counts["metrics"]


def _put_instances(client: Any, table: str, model: FleetModel, count: int) -> None:
    items = [serialize(i) for i in model.instance_items()[:count]]
    for k in range(0, len(items), 25):
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[k:k + 25]]})


def _hour_items(client: Any, table: str, ids: list[str]) -> int:
    return bare_loop(client, table, ids, to_ms(HOUR_START), to_ms(HOUR_START + timedelta(hours=1)), workers=4)


def _measure(url: str, names: TableNames, ids: list[str], warehouse: Any, repeats: int) -> dict[str, Any]:
    """Pipeline and baselines, interleaved, ``repeats`` times each; plus read counts of one sync."""
    resource = _resource(url, names)
    client = resource.client()
    start, end = HOUR_START.replace(tzinfo=None), (HOUR_START + timedelta(hours=1)).replace(tzinfo=None)
    in_hour = _hour_items(client, names.metrics, ids)
    pipe, bare, bare4, reads = [], [], [], {}
    for k in range(repeats):
        CALLS.clear()
        READ.clear()
        t0 = time.perf_counter()
        result = extract_metrics(warehouse, resource, start, end, extracted_at=end)
        pipe.append(time.perf_counter() - t0)
        if k == 0:
            reads = {"calls": {f"{op}:{t}": n for (op, t), n in CALLS.items()}, "read": dict(READ),
                     "items_read": result.batch.items, "rows_landed": result.rows_landed,
                     "requests": result.requests}
        t0 = time.perf_counter()
        n = bare_loop(client, names.metrics, ids, to_ms(HOUR_START), to_ms(HOUR_START + timedelta(hours=1)))
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bare_loop(client, names.metrics, ids, to_ms(HOUR_START), to_ms(HOUR_START + timedelta(hours=1)), workers=4)
        bare4.append(time.perf_counter() - t0)
        assert n == in_hour == result.batch.items, (n, in_hour, result.batch.items)
    p, b, b4 = statistics.median(pipe), statistics.median(bare), statistics.median(bare4)
    return {
        "items_in_hour": in_hour, "pipeline_s": p, "bare_s": b, "bare4_s": b4,
        "pipeline_items_per_s": in_hour / p, "bare_items_per_s": in_hour / b, "bare4_items_per_s": in_hour / b4,
        "ratio": b / p, "pipeline_runs_s": [round(x, 3) for x in pipe], "bare_runs_s": [round(x, 3) for x in bare],
        "bare4_runs_s": [round(x, 3) for x in bare4], **reads,
    }


def _tables(client: Any, tag: str) -> TableNames:
    suffix = uuid.uuid4().hex[:6]
    names = TableNames(f"bench-{tag}-metrics-{suffix}", f"bench-{tag}-alerts-{suffix}", f"bench-{tag}-inst-{suffix}")
    ensure_tables(client, names)
    return names


def _instances_table(client: Any, name: str) -> None:
    client.create_table(**TABLE_SPECS["instances"].create_table_kwargs(name))
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def run(mode: str = "quick") -> dict[str, Any]:
    size = SIZES[mode]
    repeats = size["repeats"]
    warehouse = new_warehouse("nephos-bench-extract-")
    hour_end = HOUR_START + timedelta(hours=1)
    try:
        with ServerProcess() as server, warehouse.hold():
            admin = _resource(server.url, TableNames()).client()
            # --- fleet growth: one table with the 16x fleet's hour; 1x/4x/16x listed ---
            fleet = 16 * size["base"]
            spec = FleetSpec(start=HOUR_START - timedelta(days=1), end=hour_end + timedelta(days=1), instances=fleet,
                             seed=7, scenarios=False)
            model = FleetModel(spec)
            names = _tables(admin, "fleet")
            t0 = time.perf_counter()
            written = _write(admin, names, model, HOUR_START - MARGIN, hour_end + MARGIN)
            write_s = time.perf_counter() - t0
            points, measured = [], {}
            for k in (1, 4, 16):
                inst = f"{names.instances}-{k}x"
                _instances_table(admin, inst)
                _put_instances(admin, inst, model, k * size["base"])
                ids = [h.instance_id for h in model.hosts[: k * size["base"]]]
                m = _measure(server.url, TableNames(names.metrics, names.alerts, inst), ids, warehouse, repeats)
                measured[k] = m
                points.append({"scale": k, "instances": len(ids), "items": m["items_in_hour"],
                               "seconds": round(m["pipeline_s"], 3), "bare_seconds": round(m["bare_s"], 3)})
            top = measured[16]
            # --- history: the same hour with 1 day, then N days, in the table ---
            hspec = FleetSpec(start=hour_end + MARGIN - timedelta(days=size["history_days"]), end=hour_end + MARGIN,
                              instances=size["history_instances"], seed=11, scenarios=False)
            hmodel = FleetModel(hspec)
            hnames = _tables(admin, "hist")
            _put_instances(admin, hnames.instances, hmodel, size["history_instances"])
            hids = [h.instance_id for h in hmodel.hosts]
            day_items = _write(admin, hnames, hmodel, hour_end + MARGIN - timedelta(days=1), hour_end + MARGIN)
            one_day = _measure(server.url, hnames, hids, warehouse, repeats)
            more = _write(admin, hnames, hmodel, hspec.start, hour_end + MARGIN - timedelta(days=1))
            n_days = _measure(server.url, hnames, hids, warehouse, repeats)
    finally:
        shutil.rmtree(warehouse.path, ignore_errors=True)

    def read_ratio(m: dict[str, Any]) -> float:
        return m["items_read"] / m["items_in_hour"]

    def scans_on(m: dict[str, Any], table: str) -> int:
        return sum(n for key, n in m["calls"].items() if key.startswith("Scan:") and key.endswith(table))

    metric_scans = sum(scans_on(m, names.metrics) for m in measured.values()) + scans_on(one_day, hnames.metrics) \
        + scans_on(n_days, hnames.metrics)
    day_total, all_total = day_items, day_items + more
    days = size["history_days"]
    return {
        "figures": {
            "extract_items_per_second": figure(
                top["pipeline_items_per_s"], "items/s", 0.8, top["bare_items_per_s"], goal="min_ratio",
                note=f"hourly sync of {top['items_in_hour']:,} items from {16 * size['base']} instances; target on "
                     "the ratio to the bare single-threaded Query loop (4-thread bare loop: "
                     f"{top['bare4_items_per_s']:,.0f} items/s)"),
            "extract_read_ratio_1_day": figure(
                read_ratio(one_day), "items read / items in hour", 1.05, day_total / one_day["items_in_hour"],
                note="baseline: what a full Scan of the table would read"),
            f"extract_read_ratio_{days}_days": figure(
                read_ratio(n_days), "items read / items in hour", 1.05, all_total / n_days["items_in_hour"],
                note="baseline: what a full Scan of the table would read"),
            f"extract_vs_bare_{days}_days": figure(
                n_days["pipeline_items_per_s"], "items/s", 0.8, n_days["bare_items_per_s"], goal="min_ratio",
                note=f"{days} days of history in the table (1 day: pipeline {one_day['pipeline_items_per_s']:,.0f} vs "
                     f"bare {one_day['bare_items_per_s']:,.0f} items/s); absolute rates fall with table size on "
                     "moto only"),
            "extract_scans_of_metrics_table": figure(float(metric_scans), "Scan calls", 0.0, None,
                                                     note="over every pipeline sync in this benchmark"),
        },
        "details": {
            "fleet_items_written": written, "write_s": round(write_s, 1),
            "write_items_per_s": round(written / write_s) if write_s else None,
            "fleet": {k: _slim(m) for k, m in measured.items()},
            "history": {"1_day": _slim(one_day), f"{days}_days": _slim(n_days), "items_1_day": day_total,
                        f"items_{days}_days": all_total},
        },
        "scaling": {"extract_hourly_sync": scaling(points)},
    }


def _slim(m: dict[str, Any]) -> dict[str, Any]:
    out = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in m.items()}
    out["read_ratio"] = round(m["items_read"] / m["items_in_hour"], 4) if m["items_in_hour"] else None
    return out
