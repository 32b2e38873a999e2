"""The local experience (issue 13): DynamoDB save/restore, ``make demo``, ``make dev``, ``nephos backfill``.

Every figure is what a user waits for, measured by running the real commands:

* ``local_dynamodb_*``: the local server's snapshot of ~80k metric items (the size of
  a week of the 8-instance demo): full save, restore, and an autosave after 1,000 changed
  items (it must cost what changed, not the whole table);
* ``demo_*``: ``nephos demo`` as ``make demo`` runs it: wall time, peak RSS, CPU, and the
  longest silence between two progress lines;
* ``dev_*``: ``make dev`` on the demo's state: time until the UI answers with the data
  restored, time to stop after SIGTERM to make, and whether a restart has every item;
* ``backfill_*``: ``nephos backfill`` over 10 days of an 8-host fleet (items put straight
  into the local DynamoDB, the backfill itself run as a user would): wall time and runs.

``tiny`` (the smoke test) runs the DynamoDB figures only, at 2,000 items.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import figure

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SIZES = {"tiny": {"items": 2_000, "commands": False}, "quick": {"items": 80_000, "commands": True},
         "full": {"items": 80_000, "commands": True}}


def _metric(i: int) -> dict[str, Any]:
    return {"instance_id": {"S": f"i-{i % 8:017x}"}, "timestamp": {"N": str(1_780_000_000_000 + i * 7_500)},
            "cpu_usage": {"N": f"{i % 97}.5"}, "memory_usage": {"N": "51.25"}, "disk_usage": {"N": "40.1"},
            "network_in": {"N": "1234"}, "network_out": {"N": "4321"}, "load_average": {"N": "0.75"}}


def dynamodb_figures(items: int) -> tuple[dict, dict]:
    from nephos_pipeline.dynamodb import moto_state
    from nephos_pipeline.dynamodb.local_server import LocalDynamoDB
    from nephos_pipeline.dynamodb.tables import ensure_tables
    from nephos_pipeline.settings import TableNames

    names, home = TableNames(), Path(tempfile.mkdtemp(prefix="nephos-bench-local-"))
    data = [_metric(i) for i in range(items)]
    try:
        with LocalDynamoDB(account_id="910000000001", snapshot_dir=home) as server:
            ensure_tables(server.client(), names)
            moto_state.load_items("910000000001", server.region, names.metrics, data)
            t0, c0 = time.perf_counter(), time.process_time()
            server.save()
            full_s, full_cpu = time.perf_counter() - t0, time.process_time() - c0
            full_bytes = sum(p.stat().st_size for p in home.glob("*.seg"))
            client = server.client()
            for item in data[:1000]:
                client.put_item(TableName=names.metrics, Item={**item, "cpu_usage": {"N": "99.5"}})
            before = {p.name for p in home.glob("*.seg")}
            t0 = time.perf_counter()
            server.save()
            delta_s = time.perf_counter() - t0
            delta_bytes = sum(p.stat().st_size for p in home.glob("*.seg") if p.name not in before)
        with LocalDynamoDB(account_id="910000000002", snapshot_dir=home) as other:
            t0, c0 = time.perf_counter(), time.process_time()
            counts = other.restore()
            restore_s, restore_cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        shutil.rmtree(home, ignore_errors=True)
    note = f"{items:,} metric items (8 attributes)"
    return {
        "local_dynamodb_save": figure(full_s, "s", 5.0, None, note=f"full save, {note}"),
        "local_dynamodb_restore": figure(restore_s, "s", 5.0, None, note=f"restore, {note}"),
        "local_dynamodb_save_cpu": figure(full_cpu, "s", None, None, goal="none", note="CPU of that save"),
        "local_dynamodb_restore_cpu": figure(restore_cpu, "s", None, None, goal="none", note="CPU of that restore"),
        "local_dynamodb_autosave_1k_changes": figure(delta_s, "s", 0.5, full_s,
                                                     note="save after 1,000 changed items; baseline: full save"),
        "local_dynamodb_autosave_bytes_ratio": figure(delta_bytes / full_bytes, "ratio", 0.05, None,
                                                      note="bytes written by that save / a full save"),
    }, {"restored": counts, "full_bytes": full_bytes, "delta_bytes": delta_bytes}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEPHOS_", "DAGSTER_"))}
    env.update({"NEPHOS_HOME": str(home), "PATH": f"{BIN}:{env.get('PATH', '')}", **extra})
    return env


def demo_figures(home: Path) -> tuple[dict, dict]:
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([str(BIN / "nephos"), "demo"], cwd=ROOT, env=_env(home), capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stamps = [float(m) for m in re.findall(r"^\[\s*([0-9.]+)s\]", proc.stdout, flags=re.M)]
    gaps = [b - a for a, b in zip([0.0, *stamps], stamps, strict=False)]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    warned = [line for line in proc.stderr.splitlines() if "Warning" in line or "Traceback" in line]
    return {
        "demo_wall": figure(wall, "s", 90.0, None, note="nephos demo (make demo), 8 instances x 4 days"),
        "demo_cpu": figure(cpu, "s", None, None, goal="none", note="user+sys CPU of the demo process"),
        "demo_peak_rss": figure(after.ru_maxrss / 1024, "MB", 1536.0, None, note="largest child RSS so far"),
        "demo_max_progress_gap": figure(max(gaps) if gaps else None, "s", 10.0, None,
                                        note="longest time between two progress lines"),
        "demo_warnings_and_tracebacks": figure(float(len(warned)), "lines", 0.0, None, note="on stderr"),
    }, {"exit": proc.returncode, "tail": proc.stdout.splitlines()[-14:], "stderr": warned[:5]}


def _ui_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _count(port: int) -> int:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    pages = (page for t in client.list_tables()["TableNames"]
             for page in client.get_paginator("scan").paginate(TableName=t, Select="COUNT"))
    return sum(page["Count"] for page in pages)


def dev_figures(home: Path) -> tuple[dict, dict]:
    ddb, ui = _free_port(), _free_port()
    env = _env(home, NEPHOS_DYNAMODB_PORT=str(ddb), DAGSTER_PORT=str(ui), NEPHOS_AUTOMATION="stopped")
    log = home / "make-dev.log"
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/bin/nephos", "dev"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    ready = None
    while time.perf_counter() - started < 300 and proc.poll() is None:
        if _ui_answers(ui):
            ready = time.perf_counter() - started
            break
        time.sleep(0.25)
    items = _count(ddb) if ready is not None else -1
    t0 = time.perf_counter()
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    stop = time.perf_counter() - t0
    server = subprocess.Popen([str(BIN / "nephos"), "dynamodb", "--port", str(ddb), "--home", str(home),
                               "--autosave-seconds", "0"], cwd=ROOT, env=_env(home), stdout=subprocess.PIPE, text=True)
    for line in server.stdout:  # type: ignore[union-attr]
        if line.startswith("export"):
            break
    again = _count(ddb)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    text = log.read_text()
    return {
        "dev_ui_ready_with_demo_data": figure(ready, "s", 30.0, None, note="make dev until the UI answers (data restored first)"),
        "dev_sigterm_stop": figure(stop, "s", 10.0, None, note="SIGTERM to make until make returned"),
        "dev_items_kept_after_restart": figure(float(again), "items", float(items), None, goal="min_value",
                                               note="items after a restart (target: items before the stop)"),
        "dev_tracebacks": figure(float(text.count("Traceback")), "count", 0.0, None, note="in make dev's output"),
    }, {"items": items, "temp_files_left": len(list(home.rglob("*.tmp"))), "log_tail": text.splitlines()[-8:]}


def backfill_figures(days: int = 10, instances: int = 8, profile: Path | None = None) -> tuple[dict, dict]:
    """``profile``: run the backfill under cProfile and write its stats there (slower)."""
    from nephos_pipeline.dynamodb import moto_state
    from nephos_pipeline.dynamodb.local_server import LocalDynamoDB
    from nephos_pipeline.dynamodb.tables import ensure_tables
    from nephos_pipeline.settings import TableNames
    from nephos_pipeline.simulator.fleet import iter_fleet_items
    from nephos_pipeline.simulator.spec import FleetSpec
    from nephos_pipeline.simulator.writer import serialize

    home = Path(tempfile.mkdtemp(prefix="nephos-bench-backfill-"))
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    spec = FleetSpec(start=end - timedelta(days=days), end=end, instances=instances, seed=42)
    names = TableNames()
    try:
        with LocalDynamoDB(port=0) as server:
            ensure_tables(server.client(), names)
            by_table: dict[str, list] = {}
            for table, item in iter_fleet_items(spec):
                by_table.setdefault(getattr(names, table), []).append(serialize(item))
            for table, rows in by_table.items():  # straight into moto: the backfill is what is measured
                moto_state.load_items(None, server.region, table, rows)
            env = _env(home, NEPHOS_DYNAMODB_ENDPOINT_URL=server.endpoint_url)
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            command = [str(BIN / "nephos"), "backfill", "--start", spec.start.isoformat(), "--end", end.isoformat()]
            if profile is not None:
                command = [sys.executable, "-m", "cProfile", "-o", str(profile), *command]
            proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    runs = len(re.findall(r"^\[[^]]*\] run \d+/\d+ .*: (?:succeeded|FAILED)", proc.stdout, flags=re.M))
    note = f"{days} days x {instances} hosts ({sum(len(v) for v in by_table.values()):,} items)"
    return {
        "backfill_10_days_8_hosts": figure(wall, "s", 300.0, None, note=f"nephos backfill, {note}"),
        "backfill_10_days_runs": figure(float(runs), "runs", 12.0, None, note="Dagster runs it took"),
        "backfill_10_days_cpu": figure(cpu, "s", None, None, goal="none",
                                       note="CPU of the backfill process (moto's share runs in the benchmark)"),
    }, {"exit": proc.returncode, "tail": proc.stdout.splitlines()[-12:], "stderr_lines": len(proc.stderr.splitlines())}


def run(mode: str = "quick") -> dict[str, Any]:
    size = SIZES[mode]
    figures, details = dynamodb_figures(size["items"])
    out: dict[str, Any] = {"figures": figures, "details": {"dynamodb": details}}
    if size["commands"]:
        home = Path(tempfile.mkdtemp(prefix="nephos-bench-demo-"))
        try:
            for name, step in (("demo", demo_figures), ("dev", dev_figures)):
                figs, det = step(home)
                out["figures"].update(figs)
                out["details"][name] = det
        finally:
            shutil.rmtree(home, ignore_errors=True)
        figs, det = backfill_figures()
        out["figures"].update(figs)
        out["details"]["backfill"] = det
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.bench_local backfill``: only the backfill figure (a few minutes),
    with the machine's load before and after, for iterating on the backfill's speed."""
    import argparse
    import json

    from benchmarks.common import load_average, machine, machine_line, quiet

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_local", description=main.__doc__.splitlines()[0])
    parser.add_argument("part", choices=["backfill"], help="the part of the local benchmark to run")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--instances", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="also write the result here (JSON)")
    parser.add_argument("--profile", type=Path, default=None, help="run the backfill under cProfile, stats to this file")
    args = parser.parse_args(argv)
    quiet()
    load_before = load_average()
    figures, details = backfill_figures(args.days, args.instances, args.profile)
    result = {"figures": figures, "details": details, "machine": machine_line(machine()),
              "load_average_before": load_before, "load_average_after": load_average()}
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0 if details["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
