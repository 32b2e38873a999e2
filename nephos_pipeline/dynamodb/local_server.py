"""A local DynamoDB-compatible server (moto) with snapshots to disk.

moto is the only local DynamoDB that also speaks DynamoDB Streams, which the speed layer
depends on; but it keeps everything in memory. ``save``/``restore`` give it a life across
restarts: one DynamoDB-JSON lines file per table plus a manifest with the table specs.

Things worth knowing before relying on it:

* **Restored tables get new stream ARNs** and start with an empty stream (plus one INSERT
  record per restored item). A stream consumer must treat that as a recreated table and
  re-read from TRIM_HORIZON, exactly as after a real delete/create.
* All moto servers in one *process* share moto's global in-memory backend; stopping a
  server does not clear it. ``account_id`` gives a server's clients their own namespace
  (moto's ``x-moto-account-id`` header), which is how tests get an empty "new" server.
* Snapshots are not point-in-time: tables are scanned one after another while writes may
  continue. Each save is atomic though: files are versioned and the manifest that names
  them is swapped in last with ``os.replace``. Use one server per snapshot directory.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from nephos_pipeline.settings import nephos_home
from nephos_pipeline.settings import region as configured_region

log = logging.getLogger(__name__)

# Dummy credentials go into each client we build instead of os.environ, so starting a
# local server never changes which credentials the rest of the process would use.
_DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Recent botocore routes DynamoDB to account-based endpoints; against a local endpoint
# that must be off. Set per client (same effect as AWS_ACCOUNT_ID_ENDPOINT_MODE=disabled)
# so we do not have to mutate the process environment.
_CLIENT_CONFIG = Config(account_id_endpoint_mode="disabled", retries={"max_attempts": 3, "mode": "standard"})


def default_snapshot_dir(env: Any = None) -> Path:
    """``<NEPHOS_HOME>/dynamodb``: next to the warehouse files, so one dir is all local state."""
    return nephos_home(env) / "dynamodb"


def _check_port_free(host: str, port: int) -> None:
    """Fail fast on a busy port: ``ThreadedMotoServer.start`` would otherwise hang forever
    (its bind error dies in the server thread and the ready event is never set)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug does
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"cannot listen on {host}:{port} ({exc.strerror}); is another "
                "`nephos dynamodb` running? Use port 0 to pick a free port.",
            ) from exc


def _add_account_header(account_id: str, request: Any, **_: Any) -> None:
    request.headers["x-moto-account-id"] = account_id


# ---- snapshots: plain functions so they work with any client ---------------------------

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

    Tables come back with their saved stream settings but **new stream ARNs**.
    """
    directory = Path(directory)
    manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    if manifest.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unsupported DynamoDB snapshot format {manifest.get('format')!r}")
    for entry in manifest["tables"]:
        try:
            client.create_table(**entry["spec"])
        except client.exceptions.ResourceInUseException:
            log.info("table %s already exists; restoring items into it", entry["spec"]["TableName"])
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
    return counts


class LocalDynamoDB:
    """moto's server on loopback, plus snapshots and optional autosave.

    ``port`` 0/None picks a free port (read it back from ``endpoint_url``). With a
    ``snapshot_dir`` the server saves there on ``stop()`` and, if ``autosave_seconds`` is
    set, every that many seconds; without one it is memory-only (what tests want).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        region: str | None = None,
        snapshot_dir: Path | str | None = None,
        autosave_seconds: float | None = None,
        account_id: str | None = None,
    ) -> None:
        if autosave_seconds and snapshot_dir is None:
            raise ValueError("autosave needs a snapshot_dir")
        self.host = host
        self.port = port or 0
        self.region = region or configured_region()
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None
        self.autosave_seconds = autosave_seconds
        self.account_id = account_id
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None
        self._stop_event = threading.Event()
        self._autosave_thread: threading.Thread | None = None
        self._save_lock = threading.Lock()  # autosave and stop() must not interleave

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("LocalDynamoDB is not started")
        return self._endpoint_url

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> LocalDynamoDB:
        if self._server is not None:
            return self
        _check_port_free(self.host, self.port)
        # werkzeug logs every request to stderr unless its logger is quieter than INFO.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server, self._endpoint_url = server, f"http://{host}:{port}"
        if self.autosave_seconds:
            self._stop_event.clear()
            self._autosave_thread = threading.Thread(
                target=self._autosave_loop, name="nephos-dynamodb-autosave", daemon=True
            )
            self._autosave_thread.start()
        log.info("local DynamoDB listening on %s", self._endpoint_url)
        return self

    def stop(self) -> None:
        """Stop autosave, save once more (if persistent), then stop the server."""
        if self._server is None:
            return
        self._stop_event.set()
        if self._autosave_thread is not None:
            self._autosave_thread.join()
            self._autosave_thread = None
        try:
            if self.snapshot_dir is not None:
                self.save()
        finally:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalDynamoDB:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def client(self, service: str = "dynamodb") -> Any:
        """A boto3 client for this server (own session: safe to call from any thread)."""
        client = boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=_CLIENT_CONFIG,
            **_DUMMY_CREDENTIALS,
        )
        if self.account_id:
            client.meta.events.register("before-sign", partial(_add_account_header, self.account_id))
        return client

    def streams_client(self) -> Any:
        return self.client("dynamodbstreams")

    def _snapshot_path(self, path: Path | str | None) -> Path:
        if path is not None:
            return Path(path)
        return self.snapshot_dir if self.snapshot_dir is not None else default_snapshot_dir()

    def save(self, path: Path | str | None = None) -> dict[str, int]:
        """Write every table to ``path`` (default: ``snapshot_dir``). Returns item counts."""
        with self._save_lock:
            return save_snapshot(self.client(), self._snapshot_path(path))

    def restore(self, path: Path | str | None = None) -> dict[str, int]:
        """Recreate the saved tables (new stream ARNs!) and load their items."""
        return restore_snapshot(self.client(), self._snapshot_path(path))

    def has_snapshot(self, path: Path | str | None = None) -> bool:
        return snapshot_exists(self._snapshot_path(path))

    def _autosave_loop(self) -> None:
        assert self.autosave_seconds
        while not self._stop_event.wait(self.autosave_seconds):
            try:
                self.save()
            except Exception:  # keep serving; the next tick or stop() will try again
                log.exception("DynamoDB autosave failed")
