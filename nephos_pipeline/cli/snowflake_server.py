"""``nephos snowflake-server``: a Snowflake-protocol test warehouse on 127.0.0.1, until interrupted.

fakesnow's HTTP server (the Snowflake REST protocol, on DuckDB) with a login check, a
statement log and Cortex stand-ins (``nephos_pipeline.warehouse.protocol_server``). Point
the production path at it to watch it run before you own an account:

    nephos snowflake-server --port 8766 &
    eval "$(nephos snowflake-server --print-env --port 8766)"   # or paste the export lines it prints
    nephos doctor && nephos demo && nephos serve --no-auth

Data lives in memory (or in ``--db-path``) for as long as the server runs. It is a test
double: no roles, grants, network policies, credits or real Cortex models.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("snowflake-server", help="run a Snowflake-protocol test warehouse on 127.0.0.1",
                              description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8766, help="port on 127.0.0.1 (default 8766; 0 picks a free one)")
    p.add_argument("--user", action="append", default=None, metavar="NAME:PASSWORD",
                   help="accepted login (repeatable; default fake:snow); other logins get error 390100")
    p.add_argument("--db-path", default=None, help="keep the databases in this folder (default: in memory)")
    p.add_argument("--no-cortex", dest="cortex", action="store_false",
                   help="do not install the AI_COMPLETE / SNOWFLAKE.CORTEX.COMPLETE stand-ins")
    p.add_argument("--print-env", action="store_true", help="only print the export lines for --port and exit")
    p.set_defaults(func=run)


def _users(values: list[str] | None) -> dict[str, str]:
    users = {}
    for value in values or ["fake:snow"]:
        name, sep, password = value.partition(":")
        if not sep or not name:
            raise ValueError(f"--user takes NAME:PASSWORD, got {value!r}")
        users[name] = password
    return users


def _exports(host: str, port: int, user: str) -> str:
    return "\n".join([
        "export NEPHOS_WAREHOUSE=snowflake SNOWFLAKE_ACCOUNT=fakesnow",
        f"export SNOWFLAKE_USER={user} SNOWFLAKE_PASSWORD=<its password>" if user != "fake"
        else "export SNOWFLAKE_USER=fake SNOWFLAKE_PASSWORD=snow",
        f"export SNOWFLAKE_HOST={host} SNOWFLAKE_PORT={port} SNOWFLAKE_PROTOCOL=http",
    ])


def run(args: argparse.Namespace) -> int:
    try:
        users = _users(args.user)
    except ValueError as exc:
        print(f"nephos snowflake-server: {exc}", file=sys.stderr)
        return 2
    first = next(iter(users))
    if args.print_env:
        print(_exports("127.0.0.1", args.port, first))
        return 0
    from nephos_pipeline.warehouse.protocol_server import SnowflakeProtocolServer

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SnowflakeProtocolServer(port=args.port, users=users, db_path=args.db_path,
                                     cortex_stand_in=args.cortex, log_limit=10_000) as server:
            print(f"Snowflake-protocol test warehouse (fakesnow) on {server.url}; Ctrl-C to stop", flush=True)
            print(_exports(server.host, server.port, first), flush=True)
            while not stop.wait(0.5):
                pass
            print(f"{sum(server.logins.values())} sessions; last statements kept: {len(server.log.statements)}",
                  flush=True)
        return 0
    except OSError as exc:
        print(f"nephos snowflake-server: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
