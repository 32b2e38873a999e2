"""The local Dagster instance under ``NEPHOS_HOME/dagster`` (``make dev``, ``nephos demo``, ``nephos backfill``).

One instance for all three, so runs from the command line show up in the UI. One run at
a time: the embedded warehouse is a single DuckDB file that one process writes at a time.
``scripts/dev.sh`` copies the same file (``local_dagster.yaml``) when it starts first.
"""

from __future__ import annotations

import os
from pathlib import Path

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
    return dg.DagsterInstance.get()
