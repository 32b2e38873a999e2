"""The deployment's processes started outside containers, with the commands the files name.

The code location is started with the Dockerfile's ``CMD``, the webserver and the daemon with
the ``command`` of their docker-compose services, and the instance is ``deploy/dagster.yaml``
as shipped. Only what a container network provides is rewritten: ``0.0.0.0`` and the fixed
ports become loopback and free ports, container paths become the test's temp dirs, and
``nephos_code`` in the workspace becomes 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
CONTAINER_HOME = "/opt/dagster/dagster_home"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def dockerfile_cmd() -> list[str]:
    """The exec-form CMD of deploy/Dockerfile (the last one, as Docker uses)."""
    lines = [ln for ln in (DEPLOY / "Dockerfile").read_text().splitlines() if ln.startswith("CMD ")]
    return json.loads(lines[-1][4:])


def local_command(cmd: list[str], port: int, workspace: Path | None = None) -> list[str]:
    """A container command made runnable here: venv executables, loopback, a free port."""
    out = [str(BIN / cmd[0]) if (BIN / cmd[0]).exists() else cmd[0], *cmd[1:]]
    for i, arg in enumerate(out):
        if arg == "0.0.0.0":
            out[i] = "127.0.0.1"
        elif i and out[i - 1] in ("-p", "--port"):
            out[i] = str(port)
        elif arg.startswith(CONTAINER_HOME) and workspace is not None:
            out[i] = str(workspace)
    return out


def write_instance(dagster_home: Path, grpc_port: int) -> Path:
    """DAGSTER_HOME with deploy/dagster.yaml as is, and deploy/workspace.yaml pointed at loopback."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "dagster.yaml", dagster_home / "dagster.yaml")
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    for entry in workspace["load_from"]:
        entry["grpc_server"].update(host="127.0.0.1", port=grpc_port)
    path = dagster_home / "workspace.yaml"
    path.write_text(yaml.safe_dump(workspace))
    return path


@dataclass
class Proc:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, n: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-n:])


@dataclass
class Processes:
    """Every process a test starts, each in its own session, all stopped by ``stop_all``."""

    logs: Path
    procs: list[Proc] = field(default_factory=list)
    describe: Callable[[], str] = lambda: ""

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> Proc:
        log = self.logs / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        proc = Proc(name, process, log)
        self.procs.append(proc)
        return proc

    def check_alive(self) -> None:
        for p in self.procs:
            if p.process.poll() is not None:
                raise AssertionError(f"{p.name} exited with {p.process.returncode}\n{p.tail()}")

    def tails(self) -> str:
        try:
            state = self.describe()
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            state = f"(no run table: {exc})"
        return "\n".join([*(p.tail() for p in self.procs), state])

    def stop_all(self) -> None:
        """Last started first: SIGTERM each whole process group (run workers included), then SIGKILL."""
        for p in reversed(self.procs):
            if p.process.poll() is None:
                try:
                    os.killpg(p.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 30
        for p in reversed(self.procs):
            try:
                p.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group: run workers the code server started may outlive it
                os.killpg(p.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if p.process.poll() is None:
                p.process.wait(timeout=10)


class GraphQL:
    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/graphql"

    def __call__(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 60.0) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            payload = json.load(response)
        if payload.get("errors"):
            raise AssertionError(json.dumps(payload["errors"], indent=1)[:4000])
        return payload["data"]


def wait_for(what: str, predicate, timeout_s: float, procs: Processes, interval_s: float = 0.5):
    """Poll ``predicate`` until it returns something truthy; fail with every log's tail."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            value = predicate()
        except (OSError, ConnectionError) as exc:  # server not up yet
            value, last_error = None, exc
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what} ({last_error})\n{procs.tails()}")
