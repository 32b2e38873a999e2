"""``nephos backfill``: sync and analyse a time range in a handful of runs, recorded in Dagster.

Plans one run per job and chunk of partitions, sized by the assets' backfill policies
(what a backfill from the UI would launch), runs them in this process against the
configured DynamoDB and warehouse, and records them in the Dagster instance under
NEPHOS_HOME (or DAGSTER_HOME), so the UI lists them with their job names and tags.
Exits 1 as soon as a run fails (later stages read what it writes).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from nephos_pipeline import settings
from nephos_pipeline.orchestration.backfill import STAGE_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("backfill", help="sync and analyse a time range (policy-sized runs, shown in the UI)",
                              description=__doc__.splitlines()[0])
    p.add_argument("--start", required=True, type=parse_time, help="range start, ISO 8601 (naive = UTC)")
    p.add_argument("--end", required=True, type=parse_time, help="range end (exclusive), ISO 8601 (naive = UTC)")
    p.add_argument("--assets", nargs="+", default=None, metavar="STAGE",
                   help=f"what to run (default all, in this order): {', '.join(STAGE_NAMES)}")
    p.add_argument("--home", default=None, help="state folder (default $NEPHOS_HOME or ./.nephos)")
    p.add_argument("--dry-run", action="store_true", help="print the planned runs and exit")
    p.set_defaults(func=run)


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    import os

    from nephos_pipeline.cli.quiet import quiet_libraries

    quiet_libraries()
    if args.home:
        os.environ["NEPHOS_HOME"] = args.home
    return backfill(args.start, args.end, args.assets, dry_run=args.dry_run)


def backfill(start: datetime, end: datetime, stages: list[str] | None = None, *, dry_run: bool = False,
             say=None, started: float | None = None) -> int:
    """Plan and run; returns the exit code (0 all succeeded, 1 a run failed, 2 nothing to do)."""
    from nephos_pipeline.definitions import build_definitions
    from nephos_pipeline.orchestration.backfill import execute, plan, select_stages
    from nephos_pipeline.orchestration.local_instance import local_instance

    t0 = time.monotonic() if started is None else started
    say = say or (lambda msg: print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True))
    if end <= start:
        say("nothing to do: --end must be after --start")
        return 2
    try:
        chosen = select_stages(stages)
        defs = build_definitions()
        skipped: list[str] = []
        runs = plan(defs, chosen, start, end, skipped)
    except ValueError as exc:
        say(f"cannot plan the backfill: {exc}")
        return 2
    for note in skipped:
        say(f"skipped {note}")
    say(f"backfill {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC: {len(runs)} run(s) "
        f"({', '.join(s.name for s in chosen)})")
    if dry_run:
        for n, planned in enumerate(runs, start=1):
            say(f"  run {n}: {planned.describe()}")
        return 0
    home = settings.nephos_home()
    instance = local_instance(home)
    outcomes = execute(defs, runs, instance, say)
    failed = [o for o in outcomes if not o.success]
    if failed or len(outcomes) < len(runs):
        say(f"backfill FAILED: {len(outcomes) - len(failed)} of {len(runs)} run(s) succeeded; "
            f"see run {failed[0].run_id} in the Dagster UI" if failed else "backfill stopped early")
        return 1
    say(f"backfill done: {len(runs)} run(s) in {sum(o.seconds for o in outcomes):.0f}s")
    return 0
