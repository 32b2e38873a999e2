"""The production path over the wire: one Snowflake-protocol server and one recorded run.

``snowflake_server`` starts the test warehouse on a free loopback port (logins checked:
the pipeline user and the read-only API user have their own passwords). ``production_run``
then does, once per test session, what an operator does on day one, with
``NEPHOS_WAREHOUSE=snowflake`` and ``NEPHOS_LLM=cortex`` pointed at that server:
``nephos demo`` (extract, load, rollups, the three analyses, the summary, archive, batch
alerts), ``nephos doctor``, and ``nephos serve`` as the reader user, answering three
requests. Every statement sent is in ``server.log`` with the user that sent it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nephos_pipeline.dynamodb.tables import ensure_tables
from nephos_pipeline.settings import TableNames
from nephos_pipeline.warehouse.protocol_server import SnowflakeProtocolServer

PIPELINE_USER, PIPELINE_PASSWORD = "NEPHOS_PIPELINE", "pipeline-pw-1"
READER_USER, READER_PASSWORD = "NEPHOS_API", "reader-pw-2"
DEMO_ARGS = ["--instances", "3", "--days", "3"]  # predictions need 2 days of history


@pytest.fixture(scope="session")
def snowflake_server() -> Iterator[SnowflakeProtocolServer]:
    with SnowflakeProtocolServer(users={PIPELINE_USER: PIPELINE_PASSWORD, READER_USER: READER_PASSWORD}) as server:
        yield server


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def snowflake_env(server: SnowflakeProtocolServer, database: str, user: str = PIPELINE_USER,
                  password: str = PIPELINE_PASSWORD) -> dict[str, str]:
    return {**server.env(user, password), "SNOWFLAKE_DATABASE": database, "SNOWFLAKE_ROLE": "NEPHOS_PIPELINE_ROLE",
            "SNOWFLAKE_WAREHOUSE": "NEPHOS_WH", "NEPHOS_LLM": "cortex"}


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """``nephos <argv>`` in this process with ``env`` set; (exit code, stdout, seconds)."""
    from nephos_pipeline.cli.main import main

    out = io.StringIO()
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        for name, value in env.items():
            mp.setenv(name, value)
        code = main(argv)
    return code, out.getvalue(), time.monotonic() - started


@dataclass
class ProductionRun:
    server: SnowflakeProtocolServer
    database: str
    env: dict[str, str]
    demo: tuple[int, str, float]
    doctor: tuple[int, str, float]
    demo_logins: int
    replies: dict[str, tuple[int, Any]] = field(default_factory=dict)
    serve_log: str = ""


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:  # noqa: S310 - loopback test server
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _serve(env: dict[str, str], tmp: Path) -> tuple[dict[str, tuple[int, Any]], str]:
    port = free_port()
    log = tmp / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "nephos_pipeline.cli.main", "serve", "--no-auth", "--port",
                                 str(port)], env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.3)
        base = f"http://127.0.0.1:{port}"
        replies = {path: _get(base + path) for path in ("/health", "/insights?limit=100", "/insights/summary")}
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()
    return replies, log.read_text()


@pytest.fixture(scope="session")
def production_run(snowflake_server: SnowflakeProtocolServer, dynamodb_server: Any,
                   tmp_path_factory: pytest.TempPathFactory) -> ProductionRun:
    tmp = tmp_path_factory.mktemp("production")
    database = f"NEPHOS_CI_{uuid.uuid4().hex[:8].upper()}"
    names = TableNames(*(f"nephos-{t}-{uuid.uuid4().hex[:8]}" for t in ("metrics", "alerts", "instances")))
    tables = {"NEPHOS_METRICS_TABLE": names.metrics, "NEPHOS_ALERTS_TABLE": names.alerts,
              "NEPHOS_INSTANCES_TABLE": names.instances}
    env = {**snowflake_env(snowflake_server, database), "NEPHOS_HOME": str(tmp / "home"),
           "DAGSTER_HOME": str(tmp / "home" / "dagster"), **tables}
    demo = run_cli(["demo", *DEMO_ARGS], env)
    demo_logins = snowflake_server.logins_by_database[PIPELINE_USER, database]
    ensure_tables(dynamodb_server.client(), names)  # the demo's own DynamoDB is gone: doctor checks these
    aws = {"NEPHOS_DYNAMODB_ENDPOINT_URL": dynamodb_server.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    doctor = run_cli(["doctor"], {**env, **aws})
    reader = {**snowflake_env(snowflake_server, database, READER_USER, READER_PASSWORD),
              "SNOWFLAKE_ROLE": "NEPHOS_READER_ROLE", "NEPHOS_HOME": str(tmp / "home")}
    replies, serve_log = _serve(reader, tmp)
    return ProductionRun(snowflake_server, database, env, demo, doctor, demo_logins, replies, serve_log)
