"""A local DynamoDB-compatible server (moto) with snapshots to disk.

moto is the only local DynamoDB that also speaks DynamoDB Streams, which the speed layer
depends on; but it keeps everything in memory. ``save``/``restore`` give it a life across
restarts: one DynamoDB-JSON lines file per table plus a manifest with the table specs.

Things worth knowing before relying on it:

* Snapshots read and fill moto's in-memory tables directly (``moto_state``), not through
  HTTP: saving ~100k items takes about a second, and an autosave writes only the items
  changed since the previous save (``snapshot``: a base segment plus deltas per table).
  A save is a consistent cut: requests wait while the changes are copied.
* **Restored tables get new stream ARNs** and start with an empty stream (the restore is
  not replayed as INSERT records). A stream consumer must treat that as a recreated table
  and re-read from TRIM_HORIZON, exactly as after a real delete/create.
* All moto servers in one *process* share moto's global in-memory backend; stopping a
  server does not clear it. ``account_id`` gives a server's clients their own namespace
  (moto's ``x-moto-account-id`` header), which is how tests get an empty "new" server.
  Use one persistent server per snapshot directory.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from nephos_pipeline.dynamodb import moto_state
from nephos_pipeline.dynamodb import snapshot as snap
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
        # One save or restore at a time; autosave skips its tick instead of queueing behind one.
        self._save_lock = threading.Lock()
        self._changes: moto_state.ChangeLog | None = None
        self._on_disk: dict[str, snap.TableSnapshot] | None = None  # what _disk_dir holds
        self._disk_dir: Path | None = None

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
        moto_state.install()
        # werkzeug logs every request to stderr unless its logger is quieter than INFO.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        server.start()
        # werkzeug's server_close() joins every request thread, and a client's keep-alive
        # connection (Dagster's sensor, a boto3 pool) keeps its thread alive: stop() would
        # wait for the clients to go away. The threads are daemons; do not wait for them.
        server._server.block_on_close = False  # type: ignore[union-attr]
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
            if self._changes is not None:
                self._changes.close()
                self._changes = None

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
        """Write the tables to ``path`` (default: ``snapshot_dir``); returns item counts.

        Into the directory this server last saved to or restored from, only the items
        changed since then are written (a delta segment per changed table).
        """
        with self._save_lock:
            return self._save(self._snapshot_path(path))

    def _change_log(self) -> moto_state.ChangeLog:
        """Created at the first save or restore: until then every table is captured whole anyway,
        so a memory-only server never collects changed keys."""
        if self._server is None:
            raise RuntimeError("LocalDynamoDB is not started")
        if self._changes is None:
            self._changes = moto_state.ChangeLog(self.account_id, self.region)
        return self._changes

    def _save(self, directory: Path) -> dict[str, int]:
        changes = self._change_log()
        directory.mkdir(parents=True, exist_ok=True)
        known = self._on_disk if self._disk_dir == directory and self._on_disk is not None else {}
        captures = changes.capture(lambda name: name not in known or known[name].needs_rewrite())
        counts = {c.name: c.item_count for c in captures}
        unchanged = not any(c.full or c.puts or c.deletes for c in captures) and set(counts) == set(known)
        if unchanged:
            return counts
        tables = []
        try:
            for c in captures:
                spec = snap.create_spec(c.description)
                if c.full:
                    tables.append(snap.TableSnapshot(c.name, spec, [snap.write_segment(directory, c.name, c.puts, [])],
                                                     c.item_count))
                    continue
                before = known[c.name]
                segments = list(before.segments)
                if c.puts or c.deletes:
                    segments.append(snap.write_segment(directory, c.name, c.puts, c.deletes))
                tables.append(snap.TableSnapshot(c.name, spec, segments, c.item_count,
                                                 before.delta_items + len(c.puts) + len(c.deletes)))
            snap.write_manifest(directory, tables)
        except BaseException:
            changes.mark_all()  # the changes taken are not on disk: next save writes all
            self._on_disk = None
            raise
        self._on_disk, self._disk_dir = {t.name: t for t in tables}, directory
        return counts

    def restore(self, path: Path | str | None = None,
                progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
        """Recreate the saved tables (new stream ARNs!) and put their items straight into moto.

        ``progress(items_loaded, items_total)`` is called after each segment. Tables that
        already exist are kept and the saved items are put into them.
        """
        directory = self._snapshot_path(path)
        with self._save_lock:
            changes = self._change_log()
            snap.remove_temp_files(directory)
            tables = snap.read_manifest(directory)
            total = sum(t.item_count for t in tables.values())
            client = self.client()
            streams: dict[str, dict[str, Any]] = {}
            created_all = True
            for t in tables.values():
                spec = dict(t.spec)
                stream = spec.pop("StreamSpecification", None)
                try:
                    client.create_table(**spec)
                except client.exceptions.ResourceInUseException:
                    log.info("table %s already exists; restoring items into it", t.name)
                    created_all = False
                    continue
                if stream:
                    streams[t.name] = stream
            loaded = 0
            for t in tables.values():
                for segment in t.segments:
                    puts, deletes = snap.read_segment(directory, segment)
                    moto_state.load_items(self.account_id, self.region, t.name, puts, deletes)
                    loaded += len(puts)
                    if progress is not None:
                        progress(min(loaded, total), total)
            # Streams only now, so they start empty: the restore is not replayed as inserts.
            for name, stream in streams.items():
                client.update_table(TableName=name, StreamSpecification=stream)
            fresh = created_all and all(seg.endswith(".seg") for t in tables.values() for seg in t.segments)
            if fresh:  # moto now holds exactly what is on disk: later saves add deltas to it
                changes.forget()
                self._on_disk, self._disk_dir = tables, directory
            backend = moto_state.backend(self.account_id, self.region)
            return {name: len(backend.get_table(name)) for name in tables}

    def has_snapshot(self, path: Path | str | None = None) -> bool:
        return snap.snapshot_exists(self._snapshot_path(path))

    def _autosave_loop(self) -> None:
        assert self.autosave_seconds
        while not self._stop_event.wait(self.autosave_seconds):
            if not self._save_lock.acquire(blocking=False):
                continue  # a save or a restore is running: never two at once, never queued
            try:
                self._save(self._snapshot_path(None))
            except Exception as exc:  # keep serving; the next tick or stop() will try again
                log.warning("DynamoDB autosave failed (%s); will retry", exc)
            finally:
                self._save_lock.release()
