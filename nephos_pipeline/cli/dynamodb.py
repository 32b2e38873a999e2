"""``nephos dynamodb``: run the local DynamoDB-compatible server until interrupted.

It restores the last snapshot, makes sure the contract tables exist, and on SIGINT or
SIGTERM saves a fresh snapshot before exiting, so local data survives restarts the way a
real table would. The endpoint is printed as an ``export`` line to paste (or ``eval``).
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from nephos_pipeline.dynamodb.local_server import LocalDynamoDB, default_snapshot_dir
from nephos_pipeline.dynamodb.tables import ensure_tables
from nephos_pipeline.settings import DEFAULT_DYNAMODB_PORT, TableNames


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dynamodb",
        help="run a local DynamoDB (with Streams) on 127.0.0.1",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_DYNAMODB_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_DYNAMODB_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="NEPHOS_HOME to keep the snapshot in (<home>/dynamodb); default $NEPHOS_HOME or ./.nephos",
    )
    parser.add_argument(
        "--autosave-seconds",
        type=float,
        default=30.0,
        help="also save every N seconds, so a crash loses at most N seconds (0 disables)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    snapshot_dir = args.home.resolve() / "dynamodb" if args.home else default_snapshot_dir()
    server = LocalDynamoDB(
        args.port, snapshot_dir=snapshot_dir, autosave_seconds=args.autosave_seconds or None
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Handlers go in before the server starts so an early Ctrl-C still saves cleanly.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        try:
            if server.has_snapshot():
                started = time.monotonic()
                counts = server.restore(progress=_progress(started))
                print(f"restored {sum(counts.values()):,} items in {len(counts)} tables from {snapshot_dir} "
                      f"in {time.monotonic() - started:.1f}s", flush=True)
            tables = ensure_tables(server.client(), TableNames.from_env())
            print(f"tables: {', '.join(tables.values())}")
            print(f"local DynamoDB (moto, with Streams) listening on {server.endpoint_url}")
            print(f"snapshot: {snapshot_dir}; Ctrl-C to save and stop")
            print(f"export NEPHOS_DYNAMODB_ENDPOINT_URL={server.endpoint_url}", flush=True)
            while not stop.wait(0.5):  # short waits keep the main thread responsive to signals
                pass
        finally:
            started = time.monotonic()
            server.stop()  # saves the snapshot (only what changed since the last save)
        print(f"saved snapshot to {snapshot_dir} in {time.monotonic() - started:.1f}s", flush=True)
        # The interpreter's final garbage collection walks every object moto and boto3
        # created (seconds on a busy machine) just to free memory the exit frees anyway.
        gc.freeze()
        return 0
    except OSError as exc:
        print(f"nephos dynamodb: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _progress(started: float, every: float = 5.0):
    """A restore progress callback that prints a line at most every ``every`` seconds."""
    last = [started]

    def report(loaded: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            print(f"restoring: {loaded:,} of {total:,} items ({now - started:.0f}s)", flush=True)
    return report
