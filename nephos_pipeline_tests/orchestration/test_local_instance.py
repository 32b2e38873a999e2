"""The local Dagster instance commits its write-ahead-logged SQLite databases without waiting
for the disk (``synchronous=NORMAL``), and only those under its own home."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from nephos_pipeline.orchestration.local_instance import local_instance

NORMAL, FULL = 1, 2


def synchronous(path: Path, wal: bool = True) -> int:
    raw = sqlite3.connect(path)
    if wal:
        raw.execute("PRAGMA journal_mode=WAL")
    raw.close()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return conn.execute(text("PRAGMA synchronous")).scalar()
    finally:
        engine.dispose()


def test_wal_databases_under_the_home_commit_with_normal_sync(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))  # restored afterwards
    instance = local_instance(tmp_path / "home")
    try:
        home = Path(instance.root_directory)
        assert synchronous(home / "events.db") == NORMAL
        assert synchronous(home / "rollback.db", wal=False) == FULL  # only WAL is safe at NORMAL
        elsewhere = tmp_path / "other"
        elsewhere.mkdir()
        assert synchronous(elsewhere / "events.db") == FULL  # nothing outside the instance changes
    finally:
        instance.dispose()
