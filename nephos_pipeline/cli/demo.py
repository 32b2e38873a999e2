"""``nephos demo``: the whole batch layer on your machine, in one command.

Starts a local DynamoDB-compatible server in-process, simulates a small fleet for about a
week (with the planted incidents), materializes the pipeline on the embedded warehouse,
and prints what landed and the insights it found. Runs are recorded in the Dagster
instance under ``NEPHOS_HOME/dagster``, so ``dagster dev`` shows them afterwards.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nephos_pipeline import settings


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="simulate a fleet and run the whole pipeline (embedded warehouse, or NEPHOS_WAREHOUSE=snowflake)",
                              description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=8, help="fleet size (default 8)")
    p.add_argument("--days", type=float, default=7, help="days of history (default 7)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--profile", choices=("realistic", "classic"), default="realistic",
                   help="healthy-host shape (default realistic: office hours, weekends, bursts, batch windows)")
    p.add_argument("--end", default=None, help="end of the simulated history, ISO 8601 UTC (default: now)")
    p.add_argument("--home", default=None, help="state folder (default $NEPHOS_HOME or ./.nephos)")
    p.set_defaults(func=run)


def _say(msg: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {msg}", flush=True)


def dagster_instance(home: Path):
    """A persistent Dagster instance in NEPHOS_HOME/dagster (what ``make dev`` uses too)."""
    import dagster as dg

    dagster_home = Path(os.environ.get("DAGSTER_HOME") or home / "dagster")
    dagster_home.mkdir(parents=True, exist_ok=True)
    yaml = dagster_home / "dagster.yaml"
    if not yaml.exists():
        yaml.write_text(
            "# Local Dagster instance for Nephos. One run at a time: the embedded warehouse is a\n"
            "# single DuckDB file that one process writes at a time.\n"
            "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
            "  config:\n    max_concurrent_runs: 1\n"
            "telemetry:\n  enabled: false\n"
        )
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return dg.DagsterInstance.get()


def run(args: argparse.Namespace) -> int:
    from nephos_pipeline.dynamodb.local_server import LocalDynamoDB
    from nephos_pipeline.dynamodb.tables import ensure_tables
    from nephos_pipeline.resources import build_resources, initialized
    from nephos_pipeline.runner import Runner
    from nephos_pipeline.simulator.spec import FleetSpec
    from nephos_pipeline.simulator.writer import write_fleet

    started = time.monotonic()
    warnings.simplefilter("ignore")  # library chatter (Arrow copies, beta parameters) is not for demo users
    if args.home:
        os.environ["NEPHOS_HOME"] = args.home
    home = settings.nephos_home()
    home.mkdir(parents=True, exist_ok=True)
    end = datetime.fromisoformat(args.end).replace(tzinfo=UTC) if args.end else datetime.now(UTC)
    spec = FleetSpec.last_days(args.days, end=end, instances=args.instances, seed=args.seed, profile=args.profile)
    names = settings.TableNames.from_env()
    _say(f"NEPHOS_HOME={home}", started)

    with LocalDynamoDB(port=0, snapshot_dir=home / "dynamodb") as server:
        ensure_tables(server.client(), names)
        _say(f"local DynamoDB on {server.endpoint_url}; simulating {spec.instances} instances, "
             f"{args.days:g} days ending {spec.end:%Y-%m-%d %H:%M} UTC", started)
        stats = write_fleet(server.client(), names, spec,
                            progress=lambda s: _say(f"  wrote {s.total:,} items ({s.rate:,.0f}/s)", started))
        _say(f"wrote {stats.summary()}", started)

        # The warehouse follows NEPHOS_WAREHOUSE: embedded by default, or Snowflake (a real account, or
        # the Snowflake-protocol server of `nephos snowflake-server`) to watch the production path run.
        env = {**os.environ, "NEPHOS_DYNAMODB_ENDPOINT_URL": server.endpoint_url}
        resources = build_resources(env)
        _say(f"warehouse: {resources['warehouse'].describe()}", started)
        runner = Runner(resources, instance=dagster_instance(home), log_level="WARNING",
                        progress=lambda m: _say(f"materializing {m}", started))
        sync_end = spec.end.replace(tzinfo=None)
        runner.sync(sync_end - timedelta(days=args.days), sync_end + timedelta(hours=1))
        runner.analyse(sync_end)
        _say(f"saving the DynamoDB data to {server.snapshot_dir} (nephos dynamodb restores it)", started)
    with initialized({"warehouse": resources["warehouse"]}) as live:
        _report(live["warehouse"], started)
    return 0


def _report(warehouse, started: float) -> None:
    counts = warehouse.query(
        "SELECT 'METRICS' AS T, COUNT(*) AS N FROM METRICS UNION ALL SELECT 'ALERTS', COUNT(*) FROM ALERTS "
        "UNION ALL SELECT 'INSTANCES', COUNT(*) FROM INSTANCES UNION ALL SELECT 'REJECTS', COUNT(*) FROM REJECTS "
        "UNION ALL SELECT 'AI_INSIGHTS', COUNT(*) FROM AI_INSIGHTS"
    )
    print("\nWarehouse (" + warehouse.describe() + "):")
    for row in counts.itertuples(index=False):
        print(f"  {row.t:<12} {int(row.n):>10,}")
    insights = warehouse.query(
        "SELECT INSIGHT_TYPE, SEVERITY, TITLE, CREATED_AT FROM AI_INSIGHTS "
        "ORDER BY CASE INSIGHT_TYPE WHEN 'summary' THEN 0 ELSE 1 END, CREATED_AT DESC LIMIT 40"
    )
    print(f"\nInsights ({len(insights)} shown):")
    for row in insights.itertuples(index=False):
        print(f"  [{row.insight_type:<10}] {row.severity:<8} {row.title}")
    print(f"\nDone in {time.monotonic() - started:.0f}s. Next: `nephos serve --no-auth` for the insights page, "
          "`make dev` for the Dagster UI.")
