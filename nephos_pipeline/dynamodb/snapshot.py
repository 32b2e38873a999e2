"""Snapshots of a local DynamoDB server: one DynamoDB-JSON lines file per table + a manifest.

moto keeps everything in memory; these functions give the local server a life across
restarts. Each save is atomic: files are versioned and the manifest that names them is
swapped in last with ``os.replace``. Snapshots are not point-in-time (tables are scanned
one after another while writes may continue). Restored tables get new stream ARNs.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
SNAPSHOT_FORMAT = 1
SCAN_PAGE_SIZE = 1000  # module-level so tests can shrink it to exercise pagination
BATCH_WRITE_SIZE = 25  # the BatchWriteItem maximum
_MAX_BATCH_ATTEMPTS = 8


def _av_to_json(av: dict[str, Any]) -> dict[str, Any]:
    """One attribute value as DynamoDB-JSON; boto3 hands binaries over as ``bytes``."""
    ((kind, value),) = av.items()
    if kind == "B":
        return {"B": base64.b64encode(value).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(v).decode("ascii") for v in value]}
    if kind == "M":
        return {"M": {k: _av_to_json(v) for k, v in value.items()}}
    if kind == "L":
        return {"L": [_av_to_json(v) for v in value]}
    return {kind: value}  # S, N (kept as its exact decimal string), SS, NS, BOOL, NULL


def _av_from_json(av: dict[str, Any]) -> dict[str, Any]:
    ((kind, value),) = av.items()
    if kind == "B":
        return {"B": base64.b64decode(value)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in value]}
    if kind == "M":
        return {"M": {k: _av_from_json(v) for k, v in value.items()}}
    if kind == "L":
        return {"L": [_av_from_json(v) for v in value]}
    return {kind: value}


def _create_spec(table: dict[str, Any]) -> dict[str, Any]:
    """Reduce a DescribeTable result to CreateTable arguments (what the manifest stores)."""
    spec: dict[str, Any] = {k: table[k] for k in ("TableName", "KeySchema", "AttributeDefinitions")}
    on_demand = table.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"
    throughput = {
        "ReadCapacityUnits": max(1, table.get("ProvisionedThroughput", {}).get("ReadCapacityUnits", 1)),
        "WriteCapacityUnits": max(1, table.get("ProvisionedThroughput", {}).get("WriteCapacityUnits", 1)),
    }
    spec["BillingMode"] = "PAY_PER_REQUEST" if on_demand else "PROVISIONED"
    if not on_demand:
        spec["ProvisionedThroughput"] = throughput
    stream = table.get("StreamSpecification") or {}
    if stream.get("StreamEnabled"):
        spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = [
            {k: ix[k] for k in ("IndexName", "KeySchema", "Projection")} for ix in table.get(key) or []
        ]
        if key == "GlobalSecondaryIndexes" and not on_demand:
            indexes = [{**ix, "ProvisionedThroughput": throughput} for ix in indexes]
        if indexes:  # moto reports empty lists, which CreateTable rejects
            spec[key] = indexes
    return spec


def _atomic_write(path: Path, lines: Iterable[str]) -> int:
    """Write via a temp file in the same directory + ``os.replace``: readers (and a crash
    mid-save) only ever see the old or the new file, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line)
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _item_lines(client: Any, table_name: str) -> Iterator[str]:
    pages = client.get_paginator("scan").paginate(
        TableName=table_name, ConsistentRead=True, PaginationConfig={"PageSize": SCAN_PAGE_SIZE}
    )
    for page in pages:
        for item in page["Items"]:
            encoded = {k: _av_to_json(v) for k, v in item.items()}
            yield json.dumps(encoded, sort_keys=True, separators=(",", ":")) + "\n"


def snapshot_exists(directory: Path | str) -> bool:
    return (Path(directory) / MANIFEST_NAME).is_file()


def save_snapshot(client: Any, directory: Path | str) -> dict[str, int]:
    """Scan every table into ``<table>.<generation>.jsonl``, then swap in the manifest.

    Data files carry a fresh generation id, so the previous snapshot stays intact until the
    new manifest replaces the old one; files no manifest names any more are removed last.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    generation = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    entries = []
    for page in client.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            spec = _create_spec(client.describe_table(TableName=name)["Table"])
            file_name = f"{name}.{generation}.jsonl"
            count = _atomic_write(directory / file_name, _item_lines(client, name))
            entries.append({"file": file_name, "item_count": count, "spec": spec})
    manifest = {"format": SNAPSHOT_FORMAT, "saved_at": time.time(), "tables": entries}
    _atomic_write(directory / MANIFEST_NAME, [json.dumps(manifest, indent=2, sort_keys=True) + "\n"])
    keep = {entry["file"] for entry in entries}
    for stale in directory.glob("*.jsonl"):
        if stale.name not in keep:
            stale.unlink(missing_ok=True)
    return {entry["spec"]["TableName"]: entry["item_count"] for entry in entries}


def _batch_put(client: Any, table_name: str, items: list[dict[str, Any]]) -> None:
    request = {table_name: [{"PutRequest": {"Item": item}} for item in items]}
    for attempt in range(_MAX_BATCH_ATTEMPTS):
        request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if not request:
            return
        time.sleep(min(0.05 * 2**attempt, 2.0))  # throttled: back off, retry the rest
    raise RuntimeError(f"restore of {table_name}: items still unprocessed after retries")


def restore_snapshot(client: Any, directory: Path | str) -> dict[str, int]:
    """Create the manifest's tables (existing ones are kept) and put all saved items.

    Tables come back with their saved stream settings but **new stream ARNs**. The stream is
    enabled only after the items are back, so the new stream starts empty: a change
    consumer restarting from TRIM_HORIZON sees changes made after the restore, not a
    replay of the whole snapshot as inserts.
    """
    directory = Path(directory)
    manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    if manifest.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unsupported DynamoDB snapshot format {manifest.get('format')!r}")
    streams_to_enable: dict[str, dict[str, Any]] = {}
    for entry in manifest["tables"]:
        spec = dict(entry["spec"])
        stream = spec.pop("StreamSpecification", None)
        try:
            client.create_table(**spec)
            if stream:
                streams_to_enable[spec["TableName"]] = stream
        except client.exceptions.ResourceInUseException:
            log.info("table %s already exists; restoring items into it", spec["TableName"])
    counts: dict[str, int] = {}
    for entry in manifest["tables"]:
        name = entry["spec"]["TableName"]
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        batch: list[dict[str, Any]] = []
        counts[name] = 0
        with open(directory / entry["file"], encoding="utf-8") as fh:
            for line in fh:
                batch.append({k: _av_from_json(v) for k, v in json.loads(line).items()})
                if len(batch) == BATCH_WRITE_SIZE:
                    _batch_put(client, name, batch)
                    counts[name], batch = counts[name] + len(batch), []
        if batch:
            _batch_put(client, name, batch)
            counts[name] += len(batch)
    for name, stream in streams_to_enable.items():
        client.update_table(TableName=name, StreamSpecification=stream)
    return counts
