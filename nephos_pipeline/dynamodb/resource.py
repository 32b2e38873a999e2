"""DynamoDB access for the pipeline, built on dagster-aws's boto3 configuration.

Region, endpoint (moto locally, unset for AWS), credentials and retries come from
``ResourceWithBoto3Configuration``; retries use botocore's *standard* mode, which backs off
on throttling (``ProvisionedThroughputExceededException``) and 5xx errors.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field

from nephos_pipeline.settings import TableNames
from nephos_pipeline.tables import Table


class DynamoDBResource(ResourceWithBoto3Configuration):
    metrics_table: str = Field(default=TableNames().metrics)
    alerts_table: str = Field(default=TableNames().alerts)
    instances_table: str = Field(default=TableNames().instances)
    other_tables: dict[str, str] = Field(default={}, description="Physical names of further registered tables "
                                         "(logical name -> name); unnamed ones are nephos-<name>.")
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0

    @property
    def tables(self) -> TableNames:
        return TableNames(self.metrics_table, self.alerts_table, self.instances_table,
                          others=tuple(sorted(self.other_tables.items())))

    def table_name(self, table: str | Table) -> str:
        """The physical name of a registered table."""
        return self.tables.of(table if isinstance(table, str) else table.name)

    def describe(self) -> str:
        return f"DynamoDB at {self.endpoint_url or 'AWS'} ({self.region_name or 'default region'})"

    def _session(self) -> boto3.session.Session:
        return boto3.session.Session(
            profile_name=self.profile_name,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            region_name=self.region_name,
        )

    def _config(self) -> Config:
        return Config(
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            max_pool_connections=16,
        )

    def _client(self, service: str) -> Any:
        return self._session().client(
            service, endpoint_url=self.endpoint_url, use_ssl=self.use_ssl, verify=self.verify, config=self._config()
        )

    def client(self) -> Any:
        return self._client("dynamodb")

    def streams_client(self) -> Any:
        return self._client("dynamodbstreams")
