"""``nephos doctor``: check a configuration before anything runs, and say what is wrong.

Checks, in order: every registered DynamoDB table (``nephos_pipeline.tables``) exists, are readable and have streams; the
warehouse connects and the role can create and MERGE; the configured LLM answers one tiny
completion (model and latency reported, as the seed's Cortex check does). Exit code 1 if
any check fails. Nothing is written except a session-scoped temporary table.

``--only warehouse,llm`` checks a subset, e.g. a Snowflake account before the DynamoDB side
exists; a check left out is reported as skipped, never as passed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from nephos_pipeline.tables import TABLES


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", help="check DynamoDB, the warehouse and the LLM configuration",
                              description=__doc__.splitlines()[0])
    p.add_argument("--only", type=_sections, default=SECTIONS, metavar="SECTIONS",
                   help="comma-separated subset of: dynamodb, warehouse, llm (default: all)")
    p.set_defaults(func=run)


SECTIONS = ("dynamodb", "warehouse", "llm")


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    return chosen


def _check(name: str, fn: Callable[[], str], results: list[bool]) -> None:
    started = time.monotonic()
    try:
        detail = fn()
        results.append(True)
        print(f"  ok    {name}: {detail} ({time.monotonic() - started:.2f}s)")
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal to the others
        results.append(False)
        message = str(exc).splitlines()[0][:800] if str(exc) else type(exc).__name__
        print(f"  FAIL  {name}: {type(exc).__name__}: {message}")


def check_table(client: Any, streams: Any, table: str) -> str:
    desc = client.describe_table(TableName=table)["Table"]
    if desc.get("TableStatus") != "ACTIVE":
        raise RuntimeError(f"table {table} is {desc.get('TableStatus')}")
    spec = desc.get("StreamSpecification") or {}
    arn = desc.get("LatestStreamArn")
    if not spec.get("StreamEnabled") or not arn:
        raise RuntimeError(f"table {table} has no stream (enable NEW_AND_OLD_IMAGES for the change sensor)")
    streams.describe_stream(StreamArn=arn, Limit=1)
    client.scan(TableName=table, Limit=1)
    return f"ACTIVE, {desc.get('ItemCount', '?')} items, stream {spec.get('StreamViewType')}"


def check_warehouse(warehouse: Any) -> str:
    from nephos_pipeline.sql_files import load_sql, split_statements

    create, merge, read = split_statements(load_sql("cli/doctor_probe.sql"))
    with warehouse.connection() as conn:
        cur = conn.cursor()
        cur.execute(create)
        cur.execute(merge, {"id": "doctor", "v": 1.0})
        cur.execute(merge, {"id": "doctor", "v": 2.0})
        cur.execute(read)
        if cur.fetchone()[0] != 2.0:
            raise RuntimeError("MERGE did not update the probe row")
    return f"{warehouse.describe()}: can create and MERGE"


def run(args: argparse.Namespace) -> int:
    from nephos_pipeline.resources import build_resources, initialized

    try:
        with initialized(build_resources()) as resources:
            return _run_checks(resources, getattr(args, "only", SECTIONS))
    except Exception as exc:  # noqa: BLE001 - e.g. SNOWFLAKE_ACCOUNT unset: say so, exit 1
        print(f"  FAIL  configuration: {type(exc).__name__}: {str(exc).splitlines()[0][:800] if str(exc) else ''}")
        return 1


def _run_checks(resources: dict[str, Any], only: tuple[str, ...] = SECTIONS) -> int:
    dynamodb, warehouse, narrator = resources["dynamodb"], resources["warehouse"], resources.get("narrator")
    results: list[bool] = []
    print(f"DynamoDB ({dynamodb.describe()}):")
    if "dynamodb" not in only:
        print("  skip  not asked for (--only)")
    else:
        _check_dynamodb(dynamodb, results)
    print("Warehouse:")
    if "warehouse" not in only:
        print("  skip  not asked for (--only)")
    else:
        _check("connect, create, merge", lambda: check_warehouse(warehouse), results)
    print("LLM:")
    warehouse_failed = "warehouse" in only and not results[-1]
    if "llm" not in only:
        print("  skip  not asked for (--only)")
    elif narrator is None:
        print("  skip  no narrator configured")
    elif getattr(narrator, "backend", "") == "cortex" and warehouse_failed:
        print("  skip  Cortex runs in the warehouse, which did not connect")
    else:
        def ping() -> str:
            model, latency = narrator.ping(warehouse)
            return f"{type(narrator).__name__} model {model} answered in {latency:.2f}s"

        _check("tiny completion", ping, results)
    failed = results.count(False)
    print(f"\n{len(results) - failed} passed, {failed} failed, {len(SECTIONS) - len(set(only))} section(s) skipped")
    return 1 if failed else 0


def _check_dynamodb(dynamodb: Any, results: list[bool]) -> None:
    try:
        client, streams = dynamodb.client(), dynamodb.streams_client()
        for table in (dynamodb.table_name(t) for t in TABLES):
            _check(f"table {table}", lambda t=table: check_table(client, streams, t), results)
    except Exception as exc:  # noqa: BLE001 - e.g. no credentials configured
        results.append(False)
        print(f"  FAIL  client: {type(exc).__name__}: {exc}")
