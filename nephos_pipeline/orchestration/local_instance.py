"""The local Dagster instance under ``NEPHOS_HOME/dagster`` (``make dev``, ``nephos demo``, ``nephos backfill``).

One instance for all three, so runs from the command line show up in the UI. One run at
a time: the embedded warehouse is a single DuckDB file that one process writes at a time.
``scripts/dev.sh`` copies the same file (``local_dagster.yaml``) when it starts first.

Its storage is Dagster's default SQLite. Dagster opens a connection per stored event and
commits it, and a backfill stores thousands of events (a planned and a materialization
event per partition and asset: about 4,700 for 10 days); at SQLite's default
``synchronous=FULL`` every commit waits for the disk (16 ms here, 2.5 ms without), about
half of a 10-day backfill's time. In this process the instance's write-ahead-logged
databases commit with ``synchronous=NORMAL``, SQLite's recommended setting for WAL: a crash
of the process or the machine never corrupts them; a power cut may lose the last events.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import dagster as dg

# The instance settings, one file: ``scripts/dev.sh`` copies it when it starts first.
DAGSTER_YAML = Path(__file__).with_name("local_dagster.yaml")


def local_instance(home: Path) -> dg.DagsterInstance:
    """``$DAGSTER_HOME`` if set, else ``<home>/dagster``, created with the local settings."""
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or home / "dagster").resolve()
    dagster_home.mkdir(parents=True, exist_ok=True)
    yaml = dagster_home / "dagster.yaml"
    if not yaml.exists():
        yaml.write_text(DAGSTER_YAML.read_text())
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    _commit_without_waiting_for_the_disk(dagster_home)
    return dg.DagsterInstance.get()


_FAST_COMMIT_HOMES: set[str] = set()


def _commit_without_waiting_for_the_disk(dagster_home: Path) -> None:
    """``synchronous=NORMAL`` on every new SQLite connection to a WAL database under
    ``dagster_home`` (a SQLAlchemy connect hook: Dagster creates its engines itself)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not _FAST_COMMIT_HOMES:
        event.listen(Engine, "connect", _on_connect)
    _FAST_COMMIT_HOMES.add(str(dagster_home) + os.sep)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"]
    if not files or not any(files[0].startswith(home) for home in _FAST_COMMIT_HOMES):
        return
    if dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
