"""Start-up: load the Definitions in a fresh process, as the UI and the daemon do on a reload.

Each measurement is a new Python process (nothing cached in memory; the OS file cache is
warm after the first, as it is on a server). Reported:

* ``startup_definitions``: from just before the process is spawned to Definitions built
  and resolved (``build_definitions()`` then ``get_repository_def()``, which resolves
  every asset, job, schedule and sensor);
* ``startup_build_call``: only the ``build_definitions()`` + resolve calls, imports done;
* the repository snapshot (what the code server serialises for the UI), when available.

Baseline, same run: a fresh process that only runs ``import dagster``, the floor any
Dagster code location pays.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import figure

ROOT = Path(__file__).resolve().parents[1]
# ``tiny`` (the smoke test) runs the same code in the current process, which is not a start-up.
SIZES: dict[str, dict[str, Any]] = {"tiny": {"repeats": 1, "in_process": True}, "quick": {"repeats": 3},
                                    "full": {"repeats": 5}}

CHILD = r"""
import json, time, warnings
warnings.simplefilter("ignore")
t0 = time.time()
from nephos_pipeline.definitions import build_definitions
t1 = time.time()
defs = build_definitions()
repo = defs.get_repository_def()
assets = len(list(repo.asset_graph.get_all_asset_keys()))
jobs = len(repo.get_all_jobs())
schedules = len(repo.schedule_defs)
t2 = time.time()
snap = None
try:
    from dagster._core.remote_representation.external_data import RepositorySnap
    RepositorySnap.from_def(repo)
    snap = time.time() - t2
except Exception as exc:
    snap = repr(exc)[:120]
print(json.dumps({"t_start": t0, "t_imported": t1, "t_built": t2, "snapshot_s": snap,
                  "assets": assets, "jobs": jobs, "schedules": schedules}))
"""
BASELINE = r"""
import json, time
t0 = time.time()
import dagster
print(json.dumps({"t_start": t0, "t_built": time.time()}))
"""


def _spawn(code: str, in_process: bool = False) -> dict[str, Any]:
    spawned = time.time()
    if in_process:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "<startup-child>", "exec"), {})  # our own constant code, not input
        stdout = buffer.getvalue()
    else:
        with tempfile.TemporaryDirectory(prefix="nephos-bench-startup-") as home:
            env = {**os.environ, "NEPHOS_HOME": home, "PYTHONWARNINGS": "ignore"}
            stdout = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                                    text=True, check=True, timeout=300).stdout
    data = json.loads(stdout.strip().splitlines()[-1])
    data["total_s"] = data["t_built"] - spawned
    data["interpreter_s"] = data["t_start"] - spawned
    return data


def run(mode: str = "quick") -> dict[str, Any]:
    repeats, in_process = SIZES[mode]["repeats"], SIZES[mode].get("in_process", False)
    runs, bases = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        runs.append(_spawn(CHILD, in_process))
        bases.append(_spawn(BASELINE, in_process))
    total = statistics.median(r["total_s"] for r in runs)
    build = statistics.median(r["t_built"] - r["t_imported"] for r in runs)
    imports = statistics.median(r["t_imported"] - r["t_start"] for r in runs)
    base = statistics.median(b["total_s"] for b in bases)
    snaps = [r["snapshot_s"] for r in runs if isinstance(r["snapshot_s"], float)]
    last = runs[-1]
    return {
        "figures": {
            "startup_definitions": figure(total, "s", 3.0, base,
                                          note="fresh process: spawn to Definitions built and resolved; "
                                               "baseline: fresh process that only imports dagster"),
            "startup_build_call": figure(build, "s", 3.0, None, goal="max_value",
                                         note="build_definitions() + get_repository_def(), imports done"),
        },
        "details": {
            "runs_total_s": [round(r["total_s"], 3) for r in runs],
            "runs_import_s": [round(r["t_imported"] - r["t_start"], 3) for r in runs],
            "runs_build_s": [round(r["t_built"] - r["t_imported"], 3) for r in runs],
            "baseline_runs_s": [round(b["total_s"], 3) for b in bases],
            "imports_median_s": round(imports, 3),
            "snapshot_median_s": round(statistics.median(snaps), 3) if snaps else last["snapshot_s"],
            "assets": last["assets"], "jobs": last["jobs"], "schedules": last["schedules"],
        },
    }
