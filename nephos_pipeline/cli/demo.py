"""``nephos demo``: the whole batch layer on your machine, in one command.

Starts a local DynamoDB-compatible server in-process, simulates a small fleet for a few
days (with the planted incidents), materializes the pipeline on the embedded warehouse,
and prints what landed and the insights it found. The pipeline runs through ``nephos
backfill`` (the project's jobs, policy-sized runs), recorded in the Dagster instance under
``NEPHOS_HOME/dagster``, so ``make dev`` shows them afterwards with their job names.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from datetime import UTC, datetime, timedelta
from functools import partial

from nephos_pipeline import settings
from nephos_pipeline.clock import floor_time


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="simulate a fleet and run the whole pipeline (embedded warehouse, or NEPHOS_WAREHOUSE=snowflake)",
                              description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=8, help="fleet size (default 8)")
    p.add_argument("--days", type=float, default=4, help="days of history (default 4: enough for a daily pattern seen on 3 days)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--profile", choices=("realistic", "classic"), default="realistic",
                   help="healthy-host shape (default realistic: office hours, weekends, bursts, batch windows)")
    p.add_argument("--end", default=None, help="end of the simulated history, ISO 8601 UTC (default: now)")
    p.add_argument("--home", default=None, help="state folder (default $NEPHOS_HOME or ./.nephos)")
    p.set_defaults(func=run)


def _say(msg: str, started: float) -> None:
    """Every line carries the elapsed time, so a slow step is visible as it happens."""
    print(f"[{time.monotonic() - started:6.1f}s] {msg}", flush=True)


def run(args: argparse.Namespace) -> int:
    from nephos_pipeline.cli.backfill import backfill
    from nephos_pipeline.cli.quiet import quiet_libraries
    from nephos_pipeline.dynamodb.local_server import LocalDynamoDB
    from nephos_pipeline.dynamodb.tables import ensure_tables
    from nephos_pipeline.resources import build_warehouse, initialized
    from nephos_pipeline.simulator.spec import FleetSpec
    from nephos_pipeline.simulator.writer import write_fleet

    started = time.monotonic()
    quiet_libraries()
    if args.home:
        os.environ["NEPHOS_HOME"] = args.home
    home = settings.nephos_home()
    home.mkdir(parents=True, exist_ok=True)
    end = datetime.fromisoformat(args.end).replace(tzinfo=UTC) if args.end else datetime.now(UTC)
    spec = FleetSpec.last_days(args.days, end=end, instances=args.instances, seed=args.seed, profile=args.profile)
    names = settings.TableNames.from_env()
    say = partial(_say, started=started)
    say(f"NEPHOS_HOME={home}")

    with LocalDynamoDB(port=0, snapshot_dir=home / "dynamodb") as server:
        ensure_tables(server.client(), names)
        say(f"local DynamoDB on {server.endpoint_url}; simulating {spec.instances} instances, "
            f"{args.days:g} days ending {spec.end:%Y-%m-%d %H:%M} UTC")
        stats = write_fleet(server.client(), names, spec,
                            progress=lambda s: say(f"  wrote {s.total:,} items ({s.rate:,.0f}/s)"))
        say(f"wrote {stats.summary()}")
        # The pipeline's own jobs, through `nephos backfill`, against this server.
        # The warehouse follows NEPHOS_WAREHOUSE: embedded by default, or Snowflake (a real account, or
        # the Snowflake-protocol server of `nephos snowflake-server`) to watch the production path run.
        os.environ["NEPHOS_DYNAMODB_ENDPOINT_URL"] = server.endpoint_url
        warehouse = build_warehouse()
        say(f"warehouse: {warehouse.describe()}")
        sim_end = spec.end.replace(second=0, microsecond=0)
        steps = [
            # everything simulated, the hour in progress included
            (["sync", "rollups"], spec.start, floor_time(sim_end, timedelta(hours=1)) + timedelta(hours=1)),
            # patterns before anomalies, over the last day, as the schedules keep them current
            (["pattern", "anomaly"], floor_time(sim_end, timedelta(hours=1)) - timedelta(hours=ANALYSED_HOURS),
             floor_time(sim_end, timedelta(minutes=15))),
            (["prediction", "summary"], floor_time(sim_end, timedelta(hours=6)) - timedelta(hours=6),
             floor_time(sim_end, timedelta(hours=6))),
        ]
        for stages, start, stop in steps:
            code = backfill(start, stop, stages, say=say)
            if code:
                return code
        say(f"saving the DynamoDB data to {server.snapshot_dir} (`make dev` restores it)")
    with initialized({"warehouse": warehouse}) as live:
        _report(live["warehouse"], started)
    gc.freeze()  # skip the interpreter's final walk over every object (seconds, for nothing)
    return 0


ANALYSED_HOURS = 8  # patterns and anomalies: the last 8 h (the deployment is 6 h before the end); longer: `nephos backfill`


def _report(warehouse, started: float) -> None:
    from nephos_pipeline.sql_files import load_sql

    counts = warehouse.query(load_sql("cli/demo_counts.sql"))
    print("\nWarehouse (" + warehouse.describe() + "):")
    for row in counts.itertuples(index=False):
        print(f"  {row.t:<12} {int(row.n):>10,}")
    insights = warehouse.query(load_sql("cli/demo_insights.sql"))
    print(f"\nInsights ({len(insights)} shown):")
    for row in insights.itertuples(index=False):
        print(f"  [{row.insight_type:<10}] {row.severity:<8} {row.title}")
    print(f"\nDone in {time.monotonic() - started:.0f}s. Next: `nephos serve --no-auth` for the insights page, "
          "`make dev` for the Dagster UI.")
