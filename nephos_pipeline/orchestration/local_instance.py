"""The local Dagster instance under ``NEPHOS_HOME/dagster`` (``make dev``, ``nephos demo``, ``nephos backfill``).

One instance for all three, so runs from the command line show up in the UI. One run at
a time: the embedded warehouse is a single DuckDB file that one process writes at a time.
``scripts/dev.sh`` writes the same file when it starts first: keep the two in step.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

DAGSTER_YAML = """\
# Local Dagster instance for Nephos. One run at a time: the embedded warehouse is a
# single DuckDB file that one process writes at a time.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def local_instance(home: Path) -> dg.DagsterInstance:
    """``$DAGSTER_HOME`` if set, else ``<home>/dagster``, created with the local settings."""
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or home / "dagster").resolve()
    dagster_home.mkdir(parents=True, exist_ok=True)
    yaml = dagster_home / "dagster.yaml"
    if not yaml.exists():
        yaml.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return dg.DagsterInstance.get()
