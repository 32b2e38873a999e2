"""Snapshots of a local DynamoDB server on disk: a manifest plus segment files per table.

Format 2 (what we write): each table is a *base* segment (every item) followed by *delta*
segments (items put or removed since), so an autosave writes only what changed. Segments
are ``marshal``-ed plain DynamoDB-JSON (no code, no pickled objects), named
``<table>.<generation>.seg``. A table is rewritten whole when its deltas grow past half
its size or :data:`MAX_DELTAS` files. Each save is atomic: segments are new files, and the
manifest that names them is swapped in last with ``os.replace``; files no manifest names
are removed after that. Format 1 (one DynamoDB-JSON lines file per table, from earlier
versions) is still read.

Restored tables get new stream ARNs (see ``local_server``).
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
SNAPSHOT_FORMAT = 2
MAX_DELTAS = 32  # delta files per table before it is rewritten whole


@dataclass
class TableSnapshot:
    """One table as the manifest describes it."""

    name: str
    spec: dict[str, Any]
    segments: list[str] = field(default_factory=list)
    item_count: int = 0
    delta_items: int = 0  # items in the delta segments: when to rewrite the table whole

    def needs_rewrite(self) -> bool:
        return len(self.segments) > MAX_DELTAS or self.delta_items > max(1000, self.item_count // 2)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "spec": self.spec, "segments": self.segments,
                "item_count": self.item_count, "delta_items": self.delta_items}


def snapshot_exists(directory: Path | str) -> bool:
    return (Path(directory) / MANIFEST_NAME).is_file()


def read_manifest(directory: Path | str) -> dict[str, TableSnapshot]:
    """The tables of the snapshot in ``directory`` (format 1 or 2), by name."""
    manifest = json.loads((Path(directory) / MANIFEST_NAME).read_text(encoding="utf-8"))
    fmt = manifest.get("format")
    if fmt == 1:
        return {t["spec"]["TableName"]: TableSnapshot(t["spec"]["TableName"], t["spec"], [t["file"]], t["item_count"])
                for t in manifest["tables"]}
    if fmt != SNAPSHOT_FORMAT:
        raise ValueError(f"unsupported DynamoDB snapshot format {fmt!r} in {directory}")
    return {t["name"]: TableSnapshot(**t) for t in manifest["tables"]}


def read_segment(directory: Path | str, name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items put, keys removed) of one segment; a format-1 ``.jsonl`` file is all puts."""
    path = Path(directory) / name
    if name.endswith(".jsonl"):  # format 1: binaries are base64 text there too, as moto keeps them
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh], []
    data = marshal.loads(path.read_bytes())
    return data["puts"], data["deletes"]


def write_segment(directory: Path, table: str, puts: list[dict[str, Any]], deletes: list[dict[str, Any]]) -> str:
    name = f"{table}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.seg"
    _atomic_write(directory / name, marshal.dumps({"puts": puts, "deletes": deletes}))
    return name


def write_manifest(directory: Path, tables: list[TableSnapshot]) -> None:
    """Swap in the new manifest, then remove every file it does not name (old segments, temp files)."""
    manifest = {"format": SNAPSHOT_FORMAT, "saved_at": time.time(), "tables": [t.to_json() for t in tables]}
    _atomic_write(directory / MANIFEST_NAME, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    keep = {MANIFEST_NAME, *(seg for t in tables for seg in t.segments)}
    for path in _own_files(directory):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def remove_temp_files(directory: Path | str) -> int:
    """Temp files a killed save left behind (a save in this process never leaves any)."""
    removed = 0
    for path in Path(directory).glob(".*.tmp"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _own_files(directory: Path) -> Iterator[Path]:
    for pattern in ("*.seg", "*.jsonl", ".*.tmp"):
        yield from directory.glob(pattern)


def _atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same directory + fsync + ``os.replace``: a reader (or a crash) sees
    the old file or the new one, never half of one; the temp file never outlives the call."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_spec(table: dict[str, Any]) -> dict[str, Any]:
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


