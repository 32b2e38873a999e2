"""Configuration read from the environment *when called*, never at import time.

Everything that decides "local or production" lives in ``nephos_pipeline.resources``;
this module only names the settings and their defaults so the CLI, the resources and the
tests agree on them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_METRICS_TABLE = "nephos-metrics"
DEFAULT_ALERTS_TABLE = "nephos-alerts"
DEFAULT_INSTANCES_TABLE = "nephos-instances"
DEFAULT_DYNAMODB_PORT = 8765
DEFAULT_REGION = "us-east-1"
# A failed login must be reported within 30 s, start-up included (the connector retries for 120 s
# by default); a statement's HTTP requests get longer, as the connector polls long queries.
DEFAULT_LOGIN_TIMEOUT_S = 10
DEFAULT_NETWORK_TIMEOUT_S = 300


def default_table_name(name: str) -> str:
    """A registered table's physical name unless ``NEPHOS_<NAME>_TABLE`` says otherwise."""
    return f"nephos-{name}"


def table_env_var(name: str) -> str:
    return f"NEPHOS_{name.upper()}_TABLE"


@dataclass(frozen=True)
class TableNames:
    """Physical DynamoDB table name per registered table (``nephos_pipeline.tables``).

    The three original tables keep their fields (positional: metrics, alerts, instances, as
    callers and deploy configs name them); any further registered table is named in
    ``others`` or gets ``default_table_name``, so adding a table needs no change here.
    """

    metrics: str = DEFAULT_METRICS_TABLE
    alerts: str = DEFAULT_ALERTS_TABLE
    instances: str = DEFAULT_INSTANCES_TABLE
    others: tuple[tuple[str, str], ...] = ()  # (logical name, physical name)

    def of(self, name: str) -> str:
        if name in _FIELDS:
            return getattr(self, name)
        return dict(self.others).get(name) or default_table_name(name)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, registered: Iterable[str] = ()) -> TableNames:
        """``NEPHOS_<NAME>_TABLE`` for the three tables and every other ``registered`` one."""
        env = os.environ if env is None else env
        named = {name: env.get(table_env_var(name)) or default_table_name(name) for name in (*_FIELDS, *registered)}
        return cls(*(named[f] for f in _FIELDS), others=tuple((n, v) for n, v in named.items() if n not in _FIELDS))


_FIELDS = ("metrics", "alerts", "instances")


def nephos_home(env: Mapping[str, str] | None = None) -> Path:
    """All local state (warehouse files, DynamoDB snapshot, Dagster home) lives here."""
    env = os.environ if env is None else env
    return Path(env.get("NEPHOS_HOME") or "./.nephos").resolve()


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def local_warehouse_memory(env: Mapping[str, str] | None = None) -> str | None:
    """``NEPHOS_LOCAL_WAREHOUSE_MEMORY`` (e.g. ``1.5GB``): the embedded warehouse's memory cap.

    Why a setting: on the embedded warehouse the SQL runs inside the pipeline's process, so
    its buffers are the process's memory. Capped, DuckDB spills large joins and aggregates to
    disk (slower) and peak RSS stays bounded whatever the fleet; unset, DuckDB may use 80 %
    of RAM. Production (Snowflake) does not read it.
    """
    env = os.environ if env is None else env
    raw = (env.get("NEPHOS_LOCAL_WAREHOUSE_MEMORY") or "").strip()
    if not raw:
        return None
    if not _MEMORY.match(raw):
        raise ValueError(f"NEPHOS_LOCAL_WAREHOUSE_MEMORY={raw!r}: expected a size such as 1GB or 800MB")
    return raw


def region(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def dynamodb_endpoint(env: Mapping[str, str] | None = None) -> str | None:
    """``None`` means real AWS."""
    env = os.environ if env is None else env
    return env.get("NEPHOS_DYNAMODB_ENDPOINT_URL") or None


def warehouse_kind(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    kind = (env.get("NEPHOS_WAREHOUSE") or "local").strip().lower()
    if kind not in {"local", "snowflake"}:
        raise ValueError(f"NEPHOS_WAREHOUSE must be 'local' or 'snowflake', got {kind!r}")
    return kind


def seconds(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{name} must be a whole number of seconds, got {text!r}")
    return int(text)


def snowflake_endpoint(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """SNOWFLAKE_HOST / SNOWFLAKE_PORT / SNOWFLAKE_PROTOCOL, for private endpoints and test servers.

    Unset (the default) lets the connector derive ``<account>.snowflakecomputing.com:443``.
    """
    env = os.environ if env is None else env
    out: dict[str, object] = {}
    if host := (env.get("SNOWFLAKE_HOST") or "").strip():
        out["host"] = host
    if port := (env.get("SNOWFLAKE_PORT") or "").strip():
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"SNOWFLAKE_PORT must be 1-65535, got {port!r}")
        out["port"] = int(port)
    if protocol := (env.get("SNOWFLAKE_PROTOCOL") or "").strip().lower():
        if protocol not in {"http", "https"}:
            raise ValueError(f"SNOWFLAKE_PROTOCOL must be http or https, got {protocol!r}")
        out["protocol"] = protocol
    return out


# --- bounded memory (issue 16) ------------------------------------------------------------

DEFAULT_CHUNK_INSTANCES = 100
DEFAULT_CHUNK_ROWS = 40_000
DEFAULT_CHUNK_TICK_INSTANCES = 250


@dataclass(frozen=True)
class Chunking:
    """How much an analysis scores in one statement, so peak memory does not grow with the run.

    ``instances``: hosts per statement (``NEPHOS_CHUNK_INSTANCES``). ``rows``: scored
    (instance, metric, tick) rows per statement (``NEPHOS_CHUNK_ROWS``); a range longer than
    ``rows / (instances x metrics)`` ticks is cut into time slices. Each scored row joins
    up to 672 baseline buckets, so 40,000 rows keep the scoring statement near 1 GB on the
    embedded warehouse; results are identical for any setting (tested).

    ``tick_instances``: hosts per statement when a run scores one tick (the scheduled
    quarter; ``NEPHOS_CHUNK_TICK_INSTANCES``). Such a statement joins one tick per series to
    its week, so its memory is mostly the buckets it reads, and fewer statements save their
    fixed cost: at 1,000 hosts a quarter took 13-15 s in chunks of 100, 9-10 s in chunks of
    250 (1.1 GB), 7-8 s in one (1.9 GB). A range keeps ``instances``: in chunks of 250 a
    1-day backfill took more time and 2.1 GB (docs/benchmarks.md, "Scale").
    """

    instances: int = DEFAULT_CHUNK_INSTANCES
    rows: int = DEFAULT_CHUNK_ROWS
    tick_instances: int = DEFAULT_CHUNK_TICK_INSTANCES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Chunking:
        env = os.environ if env is None else env
        return cls(instances=_positive(env, "NEPHOS_CHUNK_INSTANCES", DEFAULT_CHUNK_INSTANCES),
                   rows=_positive(env, "NEPHOS_CHUNK_ROWS", DEFAULT_CHUNK_ROWS),
                   tick_instances=_positive(env, "NEPHOS_CHUNK_TICK_INSTANCES", DEFAULT_CHUNK_TICK_INSTANCES))


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


def warehouse_kinds(env: Mapping[str, str] | None = None) -> set[str]:
    """The Dagster ``kinds`` tag of warehouse assets: what they actually run on."""
    return {"duckdb"} if warehouse_kind(env) == "local" else {"snowflake"}
