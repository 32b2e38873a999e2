"""``nephos simulate``: write a simulated fleet's metrics, alerts and instances to DynamoDB.

By default it backfills ``--days`` of history ending now (with the planted scenarios),
then exits. ``--live`` then keeps writing current items until Ctrl-C or ``--duration``.
Tables are never created implicitly: pointing at the wrong endpoint should fail loudly,
not quietly provision tables there. Pass ``--create-tables`` to create them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from nephos_pipeline import settings
from nephos_pipeline.settings import TableNames


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate", help="write a simulated fleet (metrics, alerts, instances) to DynamoDB",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--instances", type=int, default=8, help="fleet size (default 8)")
    p.add_argument("--days", type=float, default=7, help="days of history to backfill (default 7; 0 = none)")
    p.add_argument("--seed", type=int, default=42, help="same seed, same data (default 42)")
    p.add_argument("--end", type=_utc, default=None,
                   help="end of the history, ISO 8601, naive = UTC (default: now, floored to the minute)")
    p.add_argument("--no-scenarios", dest="scenarios", action="store_false",
                   help="ordinary hosts only, without the planted incidents")
    p.add_argument("--profile", choices=("realistic", "classic"), default="realistic",
                   help="healthy-host shape: realistic (office hours, weekends, bursts; default) or classic (cosine)")
    p.add_argument("--live", action="store_true", help="after the backfill, keep writing current items")
    p.add_argument("--rate", type=float, default=1.0, help="live: reports per minute per instance (default 1)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="live: simulated minutes per real minute (default 1)")
    p.add_argument("--duration", type=float, default=None, help="live: stop after this many real seconds")
    p.add_argument("--late", type=float, nargs="?", const=0.05, default=0.0,
                   help="live: share of metric items delivered 2-60 simulated minutes late (bare flag: 0.05)")
    p.add_argument("--workers", type=int, default=4, help="concurrent batch_write_item requests (default 4)")
    p.add_argument("--endpoint-url", default=None,
                   help="DynamoDB endpoint (default $NEPHOS_DYNAMODB_ENDPOINT_URL; unset = AWS)")
    p.add_argument("--region", default=None, help="AWS region (default $AWS_REGION or us-east-1)")
    p.add_argument("--create-tables", action="store_true", help="create the contract tables if missing")
    p.set_defaults(func=run)


def make_client(endpoint_url: str | None, region: str) -> Any:
    """A DynamoDB client; against a local endpoint, dummy credentials if none are configured."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=region)
    kwargs: dict[str, Any] = {}
    config = Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=16)
    if endpoint_url:
        config = config.merge(Config(account_id_endpoint_mode="disabled"))
        if session.get_credentials() is None:
            kwargs = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config, **kwargs)


def _progress(label: str) -> Any:
    def report(stats: Any) -> None:
        print(f"  {label}: {stats.summary()}", flush=True)

    return report


def run(args: argparse.Namespace) -> int:
    from nephos_pipeline.simulator import FleetSpec
    from nephos_pipeline.simulator.writer import run_live, write_fleet

    endpoint = args.endpoint_url or settings.dynamodb_endpoint()
    names = TableNames.from_env()
    try:
        spec = FleetSpec.last_days(args.days, end=args.end, instances=args.instances, seed=args.seed,
                                   scenarios=args.scenarios, profile=args.profile)
        client = make_client(endpoint, args.region or settings.region())
        if args.create_tables:
            from nephos_pipeline.dynamodb.tables import ensure_tables

            print(f"tables: {', '.join(ensure_tables(client, names).values())}")
        print(f"simulating {spec.instances} instances, {spec.start:%Y-%m-%d %H:%M} -> {spec.end:%Y-%m-%d %H:%M} "
              f"UTC, seed {spec.seed}, into {endpoint or 'AWS'}", flush=True)
        stats = write_fleet(client, names, spec, workers=args.workers, progress=_progress("backfill"))
        print(f"backfill done: {stats.summary()}", flush=True)
        if args.live:
            print(f"live: rate {args.rate}/min/instance, speed x{args.speed}, "
                  f"{'until Ctrl-C' if args.duration is None else f'for {args.duration:g}s'}", flush=True)
            stop = threading.Event()
            # Ctrl-C/SIGTERM end the loop cleanly, so held-back late items are still delivered.
            previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                live = run_live(client, names, spec, rate=args.rate, speed=args.speed, duration=args.duration,
                                late=args.late, stop=stop, progress=_progress("live"))
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            print(f"live done: {live.summary()}", flush=True)
        return 0
    except (ValueError, RuntimeError) as exc:
        print(f"nephos simulate: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # botocore errors: name the endpoint, the usual culprit
        if type(exc).__module__.startswith("botocore"):
            print(f"nephos simulate: {exc} (endpoint: {endpoint or 'AWS'}; tables missing? "
                  "try --create-tables)", file=sys.stderr)
            return 1
        raise
