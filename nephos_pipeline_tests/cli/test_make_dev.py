"""``make dev`` end to end: SIGTERM to make stops everything, loses nothing, leaves no temp files.

The issue this guards: SIGTERM to ``make`` left ``dev.sh``, Dagster and DynamoDB running;
a stop took minutes and a SIGKILL mid-save left an orphan temp file. Here ``make dev``
runs in its own session with a tiny dataset and free ports; the test writes items, sends
SIGTERM to make alone (as a process manager would), and checks that make returns, that no
process of its session survives, that no temp file is left, and that a second ``make dev``
serves the same items.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
STOP_LIMIT_S = 10  # the bound; dev.sh gives its children 8 s before SIGKILL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session_members(sid: int) -> list[str]:
    """Processes still in the session make led (every child of make dev stays in it)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(f"{stat.parent.name}: {text[:text.rindex(')') + 1]}")
    return members


def _start(home: Path, ddb_port: int, ui_port: int) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEPHOS_", "DAGSTER_"))}
    env.update({"NEPHOS_HOME": str(home), "NEPHOS_DYNAMODB_PORT": str(ddb_port), "DAGSTER_PORT": str(ui_port),
                "NEPHOS_AUTOMATION": "stopped", "NEPHOS_PARTITIONS_START": "2026-01-01-00:00"})
    log = home.parent / f"make-dev-{time.monotonic_ns()}.log"
    with open(log, "w") as out:  # -o: never reinstall the venv from inside a test
        proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/bin/nephos", "dev"], cwd=REPO,
                                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return proc, log


def _wait_for(check, what: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"make dev exited ({proc.returncode}) before {what}:\n{log.read_text()}")
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"no {what} after {timeout}s:\n{log.read_text()}")


def _ui_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _client(port: int):
    return boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _ddb_ready(home: Path) -> bool:
    log = home / "logs" / "dynamodb.log"
    return log.is_file() and "export NEPHOS_DYNAMODB_ENDPOINT_URL=" in log.read_text()


def _stop(proc: subprocess.Popen, log: Path) -> float:
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)  # make alone, not its group: make must pass it on
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"make dev still running 60 s after SIGTERM:\n{log.read_text()}") from None
    seconds = time.monotonic() - started
    deadline = time.monotonic() + 5  # the kernel reaps the last children a moment later
    while _session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _session_members(proc.pid)
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not left, f"processes left after make dev stopped: {left}"
    return seconds


@pytest.mark.slow
def test_sigterm_to_make_dev_stops_everything_and_a_restart_has_the_data(tmp_path):
    home = tmp_path / "home"
    ddb_port, ui_port = _free_port(), _free_port()
    items = [{"instance_id": {"S": f"i-{i % 4}"}, "timestamp": {"N": str(1_780_000_000_000 + i * 60_000)},
              "cpu_usage": {"N": "12.5"}} for i in range(300)]

    proc, log = _start(home, ddb_port, ui_port)
    try:
        _wait_for(lambda: _ui_answers(ui_port), "Dagster UI", proc, log)
        client = _client(ddb_port)
        for item in items:
            client.put_item(TableName="nephos-metrics", Item=item)
    finally:
        first_stop = _stop(proc, log)
    first_log = log.read_text()
    assert first_stop <= STOP_LIMIT_S, f"stop took {first_stop:.1f}s:\n{first_log}"
    assert "Traceback" not in first_log and "ddb (pid" not in first_log, first_log  # DynamoDB saved in time
    assert "SupersessionWarning" not in first_log, first_log
    assert not list(home.rglob("*.tmp")), "temporary files left in NEPHOS_HOME"

    (home / "logs" / "dynamodb.log").unlink()  # so the ready line read next is the new server's
    proc, log = _start(home, ddb_port, ui_port)  # a new server process: only the snapshot has the data
    try:
        _wait_for(lambda: _ddb_ready(home), "local DynamoDB", proc, log)
        count = _client(ddb_port).scan(TableName="nephos-metrics", Select="COUNT")["Count"]
    finally:
        second_stop = _stop(proc, log)  # also while Dagster is still starting
    assert count == len(items)
    assert second_stop <= STOP_LIMIT_S, f"stop took {second_stop:.1f}s:\n{log.read_text()}"
    assert not list(home.rglob("*.tmp"))
