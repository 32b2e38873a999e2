"""Scale: a large fleet through the real jobs, each step's time and peak RSS, and the credit model.

Data for the analyses is generated in the warehouse (``common.fill_fleet``: Snowflake SQL
on DuckDB), never through DynamoDB; the hourly sync reads one hour of the simulator's
fleet from the local DynamoDB server (moto, its own process), whose CPU time is measured
and subtracted (moto walks the whole table on every Query; DynamoDB does not).

Every step runs the shipped Dagster job in process (``execute_in_process`` on the code
location's job, the real resources pointed at a temporary ``NEPHOS_HOME``), with every
warehouse statement recorded (``benchmarks/recorder.py``). Backfills are the runs their
backfill policy makes: a 7-day anomaly backfill is four runs of up to 192 quarters (2 days,
``partitions.ANOMALY_QUARTERS_PER_RUN``), each its own process in production, so one run of
that size is measured and its time scaled to 7 days (plus each run's start); a 30-day pattern backfill is five runs of up to 168 hours, each a separate process in
production, so one run over ``pattern_hours`` hours is measured and its time scaled to
720 hours (stated in the figure).

The recorded statements feed the credit model (``nephos_pipeline.billing``): a day of the
schedules and the change sensor replayed under Snowflake's billing rules, for the seed's
staggered minutes, the coalesced default and the hourly low-cost cadence.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import recorder
from benchmarks.common import figure, fill_fleet, peak_rss, scaling
from benchmarks.timeline import write_timeline
from nephos_pipeline.billing import rules
from nephos_pipeline.billing.replay import Launch, replay_day
from nephos_pipeline.billing.statements import JobProfile, Statement
from nephos_pipeline.clock import PARTITION_FMT as FMT
from nephos_pipeline.ingest import buckets
from nephos_pipeline.partitions import ANOMALY_QUARTERS_PER_RUN

#: Peak RSS of every step stays under 2 GB at 1,000 hosts with this cap (measured: the
#: pattern hour 2,015 MB, the anomaly backfill 1,978 MB); uncapped, the pattern steps
#: reached 2.5-2.7 GB. 1GB failed the backfill with per-tick medians (they cannot spill);
#: with daily medians a 7-day run passed at 1GB, slower (docs/benchmarks.md).
MEMORY_CAP = "1.5GB"

START = datetime(2026, 2, 1)
ROOT = Path(__file__).resolve().parents[1]


AUTO_SUSPEND_S = rules.auto_suspend_s()  # of the warehouse the DBA creates (sql/setup/account_setup.sql)
POLL_S = rules.SUSPEND_POLL_S
RUN_START_S = 5.0  # a run worker loading the code location (benchmarks/bench_startup.py: ~2 s, plus launch)
CORTEX_TOKENS_PER_100_PER_DAY = 5_318  # benchmarks/bench_llm_cost.py, full replay (docs/benchmarks.md)
CORTEX_CREDITS_PER_MILLION = 1.95
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"fleet": 4, "range_days": 0.25, "pattern_hours": 2, "other": 8, "docs": False},
    "quick": {"fleet": 100, "range_days": 1, "pattern_hours": 6, "other": 1000, "docs": True},
    "full": {"fleet": 1000, "range_days": 7, "pattern_hours": 12, "other": 100, "docs": True},
}


def _job(defs: Any, instance: Any, name: str, key: str | None = None, first: str | None = None,
         last: str | None = None) -> Any:
    tags = {}
    if first is not None:
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    result = defs.get_job_def(name).execute_in_process(partition_key=key, instance=instance, tags=tags)
    assert result.success, name
    return result


def _step(name: str, fn: Any, steps: dict[str, Any], profiles: dict[str, JobProfile], job: str | None = None) -> None:
    """Run ``fn`` recorded (as ``job``'s profile) and note its time and peak RSS."""
    with peak_rss() as mem, recorder.recording(job or name) as profile:
        started = time.perf_counter()
        fn()
        seconds = time.perf_counter() - started
    steps[name] = {**profile.to_dict(), "seconds": round(seconds, 2), "cpu_seconds": round(profile.wall_s, 2),
                   "peak_rss_mb": round(mem["peak_mb"], 1)}
    profiles[job or name] = profile
    print(f"  {name}: {seconds:.1f} s ({profile.wall_s:.1f} s CPU), peak RSS {mem['peak_mb']:.0f} MB, "
          f"{len(profile.statements)} statements", flush=True)


def _server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(mode: str = "quick") -> dict[str, Any]:
    saved = dict(os.environ)
    try:
        return _run(mode)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def fleet_point(n: int, range_days: float) -> dict[str, Any]:
    """Anomaly partition, pattern partition and a one-day anomaly backfill on a fresh ``n``-host
    warehouse (8 days of data): a point of the 1x/4x/16x fleet curve."""
    from dagster import DagsterInstance

    from nephos_pipeline.definitions import build_definitions
    from nephos_pipeline.warehouse.local import LocalWarehouse
    from nephos_pipeline.warehouse.schema import ensure_schema

    home = Path(tempfile.mkdtemp(prefix="nephos-bench-scale-point-"))
    os.environ["NEPHOS_HOME"] = str(home)
    steps: dict[str, Any] = {}
    try:
        warehouse = LocalWarehouse(path=str(home / "warehouse"))
        ensure_schema(warehouse)
        with warehouse.connection() as conn:
            fill_fleet(warehouse, conn, n, 7 + range_days, START)
        defs, instance = build_definitions(), DagsterInstance.ephemeral()
        end = START + timedelta(days=7 + range_days)
        quarter, hour = end - timedelta(minutes=15), end - timedelta(hours=1)
        _step("anomaly_partition", lambda: _job(defs, instance, "anomaly_job", quarter.strftime(FMT)), steps, {})
        _step("pattern_partition", lambda: _job(defs, instance, "pattern_job", hour.strftime(FMT)), steps, {})
        first = end - int(range_days * 96) * timedelta(minutes=15)
        _step("anomaly_backfill", lambda: _job(defs, instance, "anomaly_job", None, first.strftime(FMT),
                                               quarter.strftime(FMT)), steps, {})
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return steps


def _run(mode: str) -> dict[str, Any]:
    size = dict(SIZES[mode])
    # A smaller run than the mode's, when the machine cannot finish it in time (said in the results).
    for key, var, kind in (("fleet", "NEPHOS_BENCH_SCALE_FLEET", int), ("range_days", "NEPHOS_BENCH_SCALE_RANGE_DAYS", float),
                           ("pattern_hours", "NEPHOS_BENCH_SCALE_PATTERN_HOURS", int)):
        if os.environ.get(var):
            size[key] = kind(os.environ[var])
    n, days = size["fleet"], 7 + size["range_days"]
    home = Path(tempfile.mkdtemp(prefix="nephos-bench-scale-"))
    env = {"NEPHOS_HOME": str(home), "NEPHOS_AUTOMATION": "stopped", "NEPHOS_WAREHOUSE": "local",
           "NEPHOS_LLM": "local", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "NEPHOS_PARTITIONS_START": "2026-01-01-00:00",
           # The 2 GB worker's setting (README): the embedded warehouse runs in this process.
           "NEPHOS_LOCAL_WAREHOUSE_MEMORY": os.environ.get("NEPHOS_LOCAL_WAREHOUSE_MEMORY") or MEMORY_CAP}
    os.environ.update(env)
    steps: dict[str, Any] = {}
    profiles: dict[str, JobProfile] = {}
    end = START + timedelta(days=days)
    try:
        from nephos_pipeline.resources import build_warehouse
        from nephos_pipeline.warehouse.schema import ensure_schema

        warehouse = build_warehouse()  # the capped local warehouse the jobs get
        ensure_schema(warehouse)
        started = time.perf_counter()
        with warehouse.connection() as conn:
            rows = fill_fleet(warehouse, conn, n, days, START, bucket=False)
            fill_s = time.perf_counter() - started
            print(f"  fill: {rows:,} rows in {fill_s:.0f} s", flush=True)
            # The one-off an existing deployment pays once (ingest/buckets.py, fill_history).
            _step("history_bucketing", lambda: buckets.rebuild(warehouse, conn), steps, {})
        with _server() as server:
            os.environ["NEPHOS_DYNAMODB_ENDPOINT_URL"] = server.url
            from dagster import DagsterInstance

            from nephos_pipeline.definitions import build_definitions

            written, write_s = _write_hour(server, n, end)
            defs = build_definitions()
            instance = DagsterInstance.ephemeral()
            quarter, hour, six = (end - timedelta(minutes=15)), end - timedelta(hours=1), end - timedelta(hours=6)
            _step("instances_rollups", lambda: _job(defs, instance, "sync_instances_job"), steps, profiles,
                  "sync_instances_job")
            _step("anomaly_partition", lambda: _job(defs, instance, "anomaly_job", quarter.strftime(FMT)), steps,
                  profiles, "anomaly_job")
            _step("pattern_partition", lambda: _job(defs, instance, "pattern_job", hour.strftime(FMT)), steps,
                  profiles, "pattern_job")
            _step("prediction_partition", lambda: _job(defs, instance, "prediction_job", six.strftime(FMT)), steps,
                  profiles, "prediction_job")
            _step("anomaly_hour_range", lambda: _job(defs, instance, "anomaly_job", None, hour.strftime(FMT),
                                                     quarter.strftime(FMT)), steps, profiles, "anomaly_job_hourly")
            ticks = min(int(size["range_days"] * 96), ANOMALY_QUARTERS_PER_RUN)  # one run, as the policy splits
            first = end - ticks * timedelta(minutes=15)
            _step("anomaly_backfill", lambda: _job(defs, instance, "anomaly_job", None, first.strftime(FMT),
                                                   quarter.strftime(FMT)), steps, profiles)
            ph = size["pattern_hours"]
            _step("pattern_backfill_run", lambda: _job(defs, instance, "pattern_job", None,
                                                       (end - timedelta(hours=ph)).strftime(FMT), hour.strftime(FMT)),
                  steps, profiles)
            sync = _sync(server, end, defs, instance, steps, profiles)
            sync.update(items=dict(written.counts), write_s=round(write_s, 1))
            # The hour's close (the :00 run): final sync of that hour again, snapshot, rollups, patterns.
            _step("hour_close", lambda: _job(defs, instance, "hour_close_job", end.strftime(FMT)), steps, profiles,
                  "hour_close_job")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    points = {n: {k: steps[k] for k in ("anomaly_partition", "pattern_partition")}
              | {"anomaly_backfill": {**steps["anomaly_backfill"],
                                      "seconds": round(steps["anomaly_backfill"]["seconds"] / size["range_days"], 2)}}}
    for k in (4, 16):
        print(f"  fleet curve: {max(1, n // k)} instances", flush=True)
        points[max(1, n // k)] = fleet_point(max(1, n // k), 1 if size["range_days"] >= 1 else size["range_days"])
    curve = {}
    for step in ("anomaly_partition", "pattern_partition", "anomaly_backfill"):
        pts = [{"scale": k, "instances": max(1, n // (16 // k)), "seconds": points[max(1, n // (16 // k))][step]["seconds"],
                "peak_rss_mb": points[max(1, n // (16 // k))][step]["peak_rss_mb"]} for k in (1, 4, 16)]
        curve[f"fleet_{step}"] = scaling(pts)
    credit = credit_model(profiles, n, size["other"])
    if size["docs"]:
        write_timeline(credit["days"], ROOT / "docs" / "img" / f"credit_timeline_{mode}.svg", n)
        write_timeline(credit["days"], ROOT / "docs" / "img" / f"credit_timeline_{mode}_2h.svg", n, hours=2.0)
    return {"figures": _figures(steps, sync, credit, size, n, ticks), "scaling": curve, "details": {
        "size": size, "fleet": n, "rows": rows, "fill_s": round(fill_s, 1), "steps": steps, "sync": sync,
        "credit_model": {k: v for k, v in credit.items() if k != "days"},
        "profiles": {k: v.to_dict() | {"statements_detail": [vars(s) for s in v.statements[:400]]}
                     for k, v in profiles.items()}}}


def _server() -> Any:
    """The local DynamoDB server (its Query reads the queried partition: dynamodb/moto_query.py)."""
    from benchmarks.bench_extract import ServerProcess

    return ServerProcess()


def _write_hour(server: Any, n: int, hour_start: datetime) -> tuple[Any, float]:
    """One hour of the simulator's ``n`` hosts (metrics, alerts, instances) in the local DynamoDB server."""
    from datetime import UTC

    from nephos_pipeline.dynamodb.resource import DynamoDBResource
    from nephos_pipeline.dynamodb.tables import ensure_tables
    from nephos_pipeline.settings import TableNames
    from nephos_pipeline.simulator.fleet import iter_fleet_items
    from nephos_pipeline.simulator.spec import FleetSpec
    from nephos_pipeline.simulator.writer import write_items

    client = DynamoDBResource(region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="local",
                              aws_secret_access_key="local").client()
    names = TableNames()
    ensure_tables(client, names)
    spec = FleetSpec(start=hour_start.replace(tzinfo=UTC), end=(hour_start + timedelta(hours=1)).replace(tzinfo=UTC),
                     instances=n, seed=5)
    started = time.perf_counter()
    written = write_items(client, names, iter_fleet_items(spec), workers=4)
    return written, time.perf_counter() - started


def _sync(server: Any, hour_start: datetime, defs: Any, instance: Any, steps: dict, profiles: dict) -> dict:
    """The real hourly sync job for that hour; the server's own CPU time is measured apart.

    Our side is reported two ways: wall time minus the server's CPU (the target's measure;
    under load it also counts waiting for a core), and this process's CPU (the pipeline's
    own work, DuckDB's threads included, whatever the load)."""
    cpu0 = _server_cpu_s(server.proc.pid)
    _step("hourly_sync_merge", lambda: _job(defs, instance, "sync_hourly_job", hour_start.strftime(FMT)), steps,
          profiles, "sync_hourly_job")
    server_s = _server_cpu_s(server.proc.pid) - cpu0
    wall = steps["hourly_sync_merge"]["seconds"]
    from nephos_pipeline.warehouse.local import LocalWarehouse

    warehouse = LocalWarehouse(path=os.path.join(os.environ["NEPHOS_HOME"], "warehouse"))
    loaded = warehouse.query("SELECT COUNT(*) AS n FROM METRICS WHERE TS >= %(a)s AND TS < %(b)s",
                             {"a": hour_start, "b": hour_start + timedelta(hours=1)}).n[0]
    return {"wall_s": wall, "server_cpu_s": round(server_s, 2), "our_cpu_s": steps["hourly_sync_merge"]["cpu_seconds"],
            "excluding_server_s": round(max(0.0, wall - server_s), 2), "metric_rows_loaded": int(loaded)}


# --- the credit model ---------------------------------------------------------------------


def launches(cadence: Any, anomaly_job: str = "anomaly_job", sensor_duplicate: bool = False) -> list[Launch]:
    """The schedules of a cadence, plus (``sensor_duplicate``, the sensor before
    ``orchestration/coverage.py``) the change sensor's second sync of each closed hour ~30 s
    after it. The sensor now skips an hour the schedule's run started after (every hour of
    a replayed day: its records are written before the hour closes); it runs only for late
    data, which a replayed day has none of."""
    from nephos_pipeline.orchestration.schedules import JOB_OF

    out = [Launch(name, anomaly_job if JOB_OF[name] == "anomaly_job" else JOB_OF[name], cron,
                  cadence.priorities[name]) for name, cron in cadence.crons.items()]
    if sensor_duplicate:
        out.append(Launch("dynamodb_change_sensor", "sync_hourly_job", "0 * * * *", 0, offset_s=30.0))
    return out


def scaled(profile: JobProfile, factor: float) -> JobProfile:
    """A profile with statement durations scaled by ``factor`` (linear extrapolation, stated)."""
    out = JobProfile(profile.job, profile.wall_s, [])
    shift = 0.0
    for s in profile.statements:
        extra = s.seconds * (factor - 1)
        out.statements.append(Statement(s.offset_s + shift, s.seconds * factor, s.sql_head, s.warehouse))
        shift += extra
    out.wall_s = profile.wall_s + shift
    return out


def _coalesced_before() -> Any:
    """The default before the hour's close became one run (four runs at :00), for comparison."""
    from nephos_pipeline.orchestration.schedules import Cadence

    return Cadence("seed_coalesced_before", {
        "sync_schedule": "*/15 * * * *", "instances_schedule": "0 * * * *", "anomaly_schedule": "*/15 * * * *",
        "pattern_schedule": "0 * * * *", "prediction_schedule": "0 */6 * * *"},
        {"sync_schedule": 40, "instances_schedule": 30, "anomaly_schedule": 20, "pattern_schedule": 10,
         "prediction_schedule": 0})


def credit_model(profiles: dict[str, JobProfile], n: int, other: int) -> dict[str, Any]:
    from nephos_pipeline.orchestration.schedules import COALESCED, HOURLY, SEED_STAGGERED

    out: dict[str, Any] = {"auto_suspend_s": AUTO_SUSPEND_S, "suspend_poll_s": POLL_S, "run_start_s": RUN_START_S,
                           "fleets": {}, "days": {}}
    for fleet in sorted({n, other}):
        factor = fleet / n
        prof = profiles if fleet == n else {k: scaled(v, factor) for k, v in profiles.items()}
        per: dict[str, Any] = {"measured": fleet == n}
        for cadence, anomaly in ((SEED_STAGGERED, "anomaly_job"), (_coalesced_before(), "anomaly_job"),
                                 (COALESCED, "anomaly_job"), (HOURLY, "anomaly_job_hourly")):
            plan = launches(cadence, anomaly, sensor_duplicate=cadence is SEED_STAGGERED)
            day = replay_day(plan, prof, RUN_START_S, AUTO_SUSPEND_S, POLL_S)
            credits = day.credits()
            per[cadence.name] = {"resumes_per_day": round(day.resume_count, 1), "busy_s_per_day": round(day.busy_s, 1),
                                 "warehouse_minutes_per_day": round(day.billed_s / 60, 1),
                                 "credits_per_day": round(credits, 3), "credits_per_month": round(30 * credits, 1),
                                 "runs_per_day": len(day.runs), "quarter_span_s": _spans(day)}
            if fleet == n:
                out["days"][cadence.name] = day
            per[cadence.name]["credits_per_day_if_sensor_duplicate"] = round(replay_day(
                launches(cadence, anomaly, sensor_duplicate=True), prof, RUN_START_S, AUTO_SUSPEND_S, POLL_S).credits(), 3)
            # What the bill would be with other settings (the same recorded runs).
            for label, run_start, suspend, poll in (("run_start_0_s", 0.0, AUTO_SUSPEND_S, POLL_S),
                                                    ("run_start_10_s", 10.0, AUTO_SUSPEND_S, POLL_S),
                                                    ("auto_suspend_60_s", RUN_START_S, 60.0, POLL_S),
                                                    ("exact_suspension", RUN_START_S, AUTO_SUSPEND_S, 0.0)):
                per[cadence.name][f"credits_per_day_if_{label}"] = round(
                    replay_day(plan, prof, run_start, suspend, poll).credits(), 3)
        tokens = CORTEX_TOKENS_PER_100_PER_DAY * fleet / 100
        per["cortex_tokens_per_day"] = round(tokens)
        per["cortex_credits_per_month"] = round(30 * tokens / 1e6 * CORTEX_CREDITS_PER_MILLION, 2)
        out["fleets"][str(fleet)] = per
    return out


def _spans(day: Any) -> dict[str, float]:
    """Busy span of the resumes (first statement to last), median and max, in seconds."""
    spans = sorted(r.last_end_s - r.start_s for r in day.resumes)
    return {"median": round(spans[len(spans) // 2], 1), "max": round(spans[-1], 1)} if spans else {}


def _figures(steps: dict, sync: dict, credit: dict, size: dict, n: int, ticks: int) -> dict[str, Any]:
    f: dict[str, Any] = {}
    peak = max(s["peak_rss_mb"] for s in steps.values())
    f["scale_peak_rss_any_step"] = figure(peak, "MB", 2048.0, None, note=f"{n} instances; max over every step")
    f["scale_anomaly_partition"] = figure(steps["anomaly_partition"]["seconds"], "s", 10.0, None,
                                          note=f"{n} instances, the anomaly_job run of one quarter")
    f["scale_pattern_partition"] = figure(steps["pattern_partition"]["seconds"], "s", None, None, goal="none",
                                          note=f"{n} instances")
    f["scale_prediction_partition"] = figure(steps["prediction_partition"]["seconds"], "s", None, None, goal="none",
                                             note=f"{n} instances, predictions + summary")
    days = ticks / 96
    backfill = steps["anomaly_backfill"]["seconds"]
    runs = -(-672 // ANOMALY_QUARTERS_PER_RUN)
    f["scale_anomaly_backfill_7_days"] = figure(backfill * 7 / days + runs * RUN_START_S, "s", 300.0, None, note=(
        f"{n} instances; one run over {ticks} quarters, scaled x{7 / days:g} to 7 days, plus {runs} run starts "
        f"of {RUN_START_S:g} s (the policy makes {runs} runs, each its own process)"))
    ph = size["pattern_hours"]
    f["scale_pattern_backfill_30_days"] = figure(steps["pattern_backfill_run"]["seconds"] * 720 / ph, "s", None, None,
                                                 goal="none", note=f"{n} instances; one run over {ph} hours, x{720 / ph:g}")
    f["scale_sync_merge_hour"] = figure(sync["excluding_server_s"], "s", 60.0, sync["wall_s"], note=(
        f"{n} instances, {sync['items'].get('metrics', 0):,} metric items ({sync['metric_rows_loaded']:,} rows "
        f"loaded); wall {sync['wall_s']} s minus the local DynamoDB server's CPU {sync['server_cpu_s']} s; "
        f"our process's CPU {sync['our_cpu_s']} s"))
    for fleet, per in credit["fleets"].items():
        how = "measured" if per["measured"] else "extrapolated linearly"
        target = 1.7 if fleet == "100" and per["measured"] else None  # an extrapolation is not judged
        f[f"credits_per_day_{fleet}_coalesced"] = figure(per["seed"]["credits_per_day"], "credits/day", target,
                                                         per["seed_staggered"]["credits_per_day"],
                                                         goal="max_value" if target else "none",
                                                         note=f"{fleet} instances ({how}); baseline: seed's staggered minutes")
        f[f"credits_per_day_{fleet}_hourly"] = figure(per["hourly"]["credits_per_day"], "credits/day", None, None,
                                                      goal="none", note=f"{fleet} instances ({how}); NEPHOS_CADENCE=hourly")
    return f


def credits_of(billed_s: float) -> float:
    return rules.credits(billed_s)
