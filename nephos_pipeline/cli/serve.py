"""``nephos serve``: the insights API and page over uvicorn, reading AI_INSIGHTS only.

Why it refuses to start without a token: the service answers on the network, so
authentication is on unless ``--no-auth`` says otherwise, explicitly, for local use. The
token comes from the environment (NEPHOS_API_TOKEN), never from the command line, where
it would show in the process list and shell history.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import sys
import warnings
from contextlib import ExitStack
from typing import Any

TOKEN_ENV = "NEPHOS_API_TOKEN"
CORS_ENV = "NEPHOS_API_CORS_ORIGINS"
_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s]*")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the insights API and the insights page",
        description=(
            "Serve GET /insights, /insights/summary, /insights/{patterns,anomalies,predictions}, /health, "
            f"/openapi.json and the insights page at /. Requires {TOKEN_ENV} unless --no-auth is given."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    parser.add_argument(
        "--no-auth", action="store_true", help=f"serve without a bearer token (local use only; ignores {TOKEN_ENV})"
    )
    parser.add_argument(
        "--cors-origin", action="append", default=None, metavar="ORIGIN",
        help=f"allow this browser origin (repeatable; default: the comma list in {CORS_ENV})",
    )
    parser.set_defaults(func=run)


def cors_origins(args: argparse.Namespace, env: dict[str, str] | os._Environ[str]) -> list[str]:
    if args.cors_origin:
        return [o.strip() for o in args.cors_origin if o.strip()]
    return [o.strip() for o in (env.get(CORS_ENV) or "").split(",") if o.strip()]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RedactTokenFilter(logging.Filter):
    """Keep ``?token=...`` (the page's one-time sign-in) out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_URL.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args)
        return True


def run(args: argparse.Namespace) -> int:
    token = os.environ.get(TOKEN_ENV) or None
    if not args.no_auth and not token:
        print(
            f"nephos serve: set {TOKEN_ENV} to the bearer token clients must send, "
            "or pass --no-auth to serve without authentication (local use only).",
            file=sys.stderr,
        )
        return 2
    if not 0 < args.port < 65536:
        print(f"nephos serve: --port must be 1-65535, got {args.port}", file=sys.stderr)
        return 2
    if args.no_auth and not _is_loopback(args.host):
        print(f"nephos serve: WARNING: no authentication while listening on {args.host}", file=sys.stderr)

    import uvicorn

    from nephos_pipeline.api import create_app
    from nephos_pipeline.resources import build_warehouse, initialized  # lazily: they read the environment

    with ExitStack() as stack:
        try:  # one session pool for the whole process, logged out on exit
            warehouse = stack.enter_context(initialized({"warehouse": build_warehouse()}))["warehouse"]
        except Exception as exc:  # noqa: BLE001 - a setting missing or malformed (e.g. SNOWFLAKE_ACCOUNT)
            print(f"nephos serve: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                  file=sys.stderr)
            return 2
        return _serve(args, token, warehouse, create_app, uvicorn)


def _serve(args: argparse.Namespace, token: str | None, warehouse: Any, create_app: Any, uvicorn: Any) -> int:
    app = create_app(
        warehouse, token=None if args.no_auth else token, auth_disabled=args.no_auth,
        cors_origins=cors_origins(args, os.environ),
    )
    logging.getLogger("uvicorn.access").addFilter(RedactTokenFilter())
    # fakesnow warns on every local query; it says nothing an operator can act on.
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
    where = f"http://{args.host}:{args.port}/"
    print(f"nephos serve: insights page and API at {where} ({warehouse.describe()})", file=sys.stderr)
    if not args.no_auth:
        print(f"nephos serve: sign in to the page once with {where}?token=<{TOKEN_ENV}>", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, server_header=False, log_level="info")
    return 0
