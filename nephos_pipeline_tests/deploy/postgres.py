"""A throwaway PostgreSQL server from the system packages, for the deployment tests.

``initdb`` in a fresh temp dir, ``pg_ctl start`` on a free loopback port with password
(scram) authentication, ``pg_ctl stop`` at the end. PostgreSQL refuses to run as root, and CI
runs as root: there the server runs as the ``postgres`` system user (created by the Debian
package) through ``runuser``, and the data dir is made in /tmp (not pytest's 0700 tmp tree).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "dagster"
PASSWORD = "nephos-test-only"  # noqa: S105 - a throwaway server on loopback


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin that has initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    db: str

    def env(self) -> dict[str, str]:
        """The DAGSTER_POSTGRES_* variables deploy/dagster.yaml reads."""
        return {"DAGSTER_POSTGRES_HOST": self.host, "DAGSTER_POSTGRES_PORT": str(self.port),
                "DAGSTER_POSTGRES_USER": self.user, "DAGSTER_POSTGRES_PASSWORD": self.password,
                "DAGSTER_POSTGRES_DB": self.db}


@contextmanager
def running_postgres(db: str = "dagster") -> Iterator[Postgres]:
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError("no /usr/lib/postgresql/*/bin/initdb (install the postgresql package)")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="nephos-pg-"))
    data, pwfile, log = root / "data", root / "pwfile", root / "postgres.log"
    pwfile.write_text(PASSWORD + "\n")
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()

    def run(*args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=120, **kw)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, db],
                       check=True, capture_output=True, text=True, timeout=60, env=env)
        yield Postgres("127.0.0.1", port, USER, PASSWORD, db)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
