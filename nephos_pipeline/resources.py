"""The one place that decides local or production resources.

Called when Definitions are built (``dagster dev``, ``dagster definitions validate``, the
CLI), never at import. Secrets are passed as ``EnvVar`` so Dagster resolves them at run
time and never shows their values in the UI or run config.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

from dagster import ConfigurableResource, EnvVar

from nephos_pipeline import settings, tables
from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.insights.llm.factory import build_narrator
from nephos_pipeline.warehouse import LocalWarehouse, Warehouse

LOOPBACK_PREFIXES = ("http://127.", "http://localhost", "http://[::1]")


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def build_warehouse(env: Mapping[str, str] | None = None) -> Warehouse:
    env = _env(env)
    if settings.warehouse_kind(env) == "local":
        return LocalWarehouse(path=str(settings.nephos_home(env) / "warehouse"),
                              memory_limit=settings.local_warehouse_memory(env))
    from dagster_snowflake import SnowflakeResource

    from nephos_pipeline.warehouse.snowflake import SnowflakeWarehouse  # only here: a slow import

    def optional(name: str) -> Any:
        return EnvVar(name) if env.get(name) else None

    snowflake = SnowflakeResource(
        account=EnvVar("SNOWFLAKE_ACCOUNT"),
        user=EnvVar("SNOWFLAKE_USER"),
        password=optional("SNOWFLAKE_PASSWORD"),
        private_key_path=optional("SNOWFLAKE_PRIVATE_KEY_PATH"),
        private_key_password=optional("SNOWFLAKE_PRIVATE_KEY_PASSWORD"),
        role=optional("SNOWFLAKE_ROLE"),
        warehouse=optional("SNOWFLAKE_WAREHOUSE"),
        database=env.get("SNOWFLAKE_DATABASE") or "NEPHOS",
        schema=env.get("SNOWFLAKE_SCHEMA") or "PUBLIC",
        timezone="UTC",
        login_timeout=settings.seconds(env, "SNOWFLAKE_LOGIN_TIMEOUT", settings.DEFAULT_LOGIN_TIMEOUT_S),
        network_timeout=settings.seconds(env, "SNOWFLAKE_NETWORK_TIMEOUT", settings.DEFAULT_NETWORK_TIMEOUT_S),
        additional_snowflake_connection_args=settings.snowflake_endpoint(env) or None,
    )
    return SnowflakeWarehouse(snowflake=snowflake)


@contextmanager
def initialized(resources: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Resources ready for use outside a Dagster run (the CLI, ``nephos serve``).

    Inside a run Dagster resolves each ``EnvVar`` and calls the resource's setup and
    teardown; outside one nothing does, and the first use fails with "Attempted to directly
    retrieve environment variable". This does what a run does, in this process only: the
    values are read from the environment here and never enter any run config or UI.
    """
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(r.process_config_and_initialize_cm()) if isinstance(r, ConfigurableResource) else r
            for name, r in resources.items()
        }


def build_dynamodb(env: Mapping[str, str] | None = None) -> DynamoDBResource:
    env = _env(env)
    names = settings.TableNames.from_env(env, tables.names())
    endpoint = settings.dynamodb_endpoint(env)
    local = bool(endpoint and endpoint.startswith(LOOPBACK_PREFIXES))
    has_keys = bool(env.get("AWS_ACCESS_KEY_ID"))
    return DynamoDBResource(
        region_name=settings.region(env),
        endpoint_url=endpoint,
        # The local moto server accepts any credentials; real AWS uses the default chain.
        aws_access_key_id="local" if local and not has_keys else None,
        aws_secret_access_key="local" if local and not has_keys else None,
        max_attempts=8,
        metrics_table=names.metrics,
        alerts_table=names.alerts,
        instances_table=names.instances,
        other_tables=dict(names.others),
    )


def build_resources(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = _env(env)
    return {"warehouse": build_warehouse(env), "dynamodb": build_dynamodb(env), "narrator": build_narrator(env)}
