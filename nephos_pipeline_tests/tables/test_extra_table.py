"""Adding a DynamoDB table is a declaration plus its SQL: run one through extract -> land -> merge.

The Deployments table below is registered the way ``docs/extending.md`` describes (its
declaration in ``deployments/__init__.py``, its DDL, MERGE and prune files beside it) and
goes through the real moto server, the same Dagster assets the registry builds for every
table, and the embedded warehouse. Nothing else in the package is edited for it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlglot

from nephos_pipeline import tables
from nephos_pipeline.dynamodb.tables import ensure_tables, stream_arn
from nephos_pipeline.ingest.assets import build_ingest_assets
from nephos_pipeline.orchestration.streams import partitions_for_record
from nephos_pipeline.partitions import Partitions
from nephos_pipeline.settings import TableNames
from nephos_pipeline.sql_files import load_sql, split_statements
from nephos_pipeline_tests.helpers import dynamodb_resource, ms
from nephos_pipeline_tests.tables.deployments import DEPLOYMENTS

H0 = datetime(2026, 3, 1, 10, 0)
KEY = "2026-03-01-10:00"
REGISTRY = (*tables.TABLES, DEPLOYMENTS)
SQL_FILES = ("ddl/04_deployments.sql", DEPLOYMENTS.sql_file("merge"), DEPLOYMENTS.sql_file("prune"))


def deployment(deployment_id: str, at: datetime | int, version: str = "v1", instance_id: str = "web-01") -> dict:
    deployed = at if isinstance(at, int) else ms(at)
    return {"deployment_id": {"S": deployment_id}, "instance_id": {"S": instance_id},
            "deployed_at": {"N": str(deployed)}, "version": {"S": version}}


@pytest.fixture
def deployments(dynamodb_server, dynamodb_tables, warehouse):
    """The fixture's three tables plus a Deployments table, and its warehouse tables."""
    t = dynamodb_tables
    name = f"nephos-deployments-{uuid.uuid4().hex[:8]}"
    names = TableNames(t.names.metrics, t.names.alerts, t.names.instances, others=(("deployments", name),))
    assert ensure_tables(t.client, names, REGISTRY)["deployments"] == name
    warehouse.execute_script(load_sql(SQL_FILES[0], DEPLOYMENTS.sql_package))
    resource = dynamodb_resource(t.endpoint_url, t.names, other_tables={"deployments": name})
    try:
        yield t.client, name, warehouse, {"warehouse": warehouse, "dynamodb": resource}
    finally:
        t.client.delete_table(TableName=name)


def sync(resources: dict) -> dg.ExecuteInProcessResult:
    assets = build_ingest_assets(Partitions.build(), REGISTRY)
    return dg.materialize(assets, resources=resources, partition_key=KEY,
                          selection=[DEPLOYMENTS.raw_asset, DEPLOYMENTS.name])


def test_an_extra_table_is_extracted_landed_and_merged(deployments):
    client, name, wh, resources = deployments
    assert stream_arn(client, name)  # created from its declaration, with the contract's stream
    for item in (deployment("d-1", H0 + timedelta(minutes=5)), deployment("d-2", H0 + timedelta(minutes=50), "v7"),
                 deployment("d-next", H0 + timedelta(hours=1)),  # the next window: not read
                 deployment("d-secs", ms(H0) // 1000),  # epoch seconds: read by every window, rejected
                 {**deployment("d-bad", H0 + timedelta(minutes=9)), "version": {"N": "3"}}):
        client.put_item(TableName=name, Item=item)

    result = sync(resources)
    raw = result.asset_materializations_for_node("raw_deployments")[0].metadata
    assert (raw["items_read"].value, raw["items_loaded"].value, raw["items_rejected"].value) == (4, 2, 2)
    merged = result.asset_materializations_for_node("deployments")[0].metadata
    assert (merged["rows_inserted"].value, merged["rows_updated"].value, merged["rows_deleted"].value) == (2, 0, 0)
    assert "d-2" in merged["preview"].value
    rows = wh.query("SELECT DEPLOYMENT_ID, INSTANCE_ID, DEPLOYED_AT, VERSION FROM DEPLOYMENTS ORDER BY 1")
    assert rows.values.tolist() == [["d-1", "web-01", H0 + timedelta(minutes=5), "v1"],
                                    ["d-2", "web-01", H0 + timedelta(minutes=50), "v7"]]
    rejects = wh.query("SELECT ITEM_KEY, REASON FROM REJECTS WHERE SOURCE_TABLE = 'deployments' ORDER BY 1")
    assert rejects.values.tolist() == [["d-bad", "version: expected S, got N"],
                                       ["d-secs", "deployed_at: 1772359200 is not epoch milliseconds between 2000 "
                                                  "and 2100"]]

    # A redeploy updates in place, a deleted item leaves the window, a re-run replaces.
    client.put_item(TableName=name, Item=deployment("d-1", H0 + timedelta(minutes=5), "v2"))
    client.delete_item(TableName=name, Key={"deployment_id": {"S": "d-2"}})
    again = sync(resources).asset_materializations_for_node("deployments")[0].metadata
    assert (again["rows_inserted"].value, again["rows_updated"].value, again["rows_deleted"].value) == (0, 1, 1)
    assert wh.query("SELECT DEPLOYMENT_ID, VERSION FROM DEPLOYMENTS").values.tolist() == [["d-1", "v2"]]
    counts = wh.query("SELECT (SELECT COUNT(*) FROM LANDING_DEPLOYMENTS) AS landed, "
                      "(SELECT COUNT(*) FROM REJECTS WHERE SOURCE_TABLE = 'deployments') AS rejected")
    assert counts.values.tolist() == [[1, 2]]


def test_the_registry_derives_the_rest_of_an_extra_table():
    assert tables.sync_assets(True, REGISTRY) == [*tables.SYNC_HOURLY, "raw_deployments", "deployments"]
    assert tables.sync_assets(False, REGISTRY) == tables.SYNC_SNAPSHOT
    keys = {a.key.to_user_string(): a for a in build_ingest_assets(Partitions.build(), REGISTRY)}
    assert keys["raw_deployments"].partitions_def is not None
    assert {d.to_user_string() for d in keys["deployments"].dependency_keys} == {"raw_deployments"}
    # The change sensor maps a stream record to the hours of both images (an item moved between hours).
    moved = {"dynamodb": {"Keys": {"deployment_id": {"S": "d-1"}},
                          "NewImage": deployment("d-1", H0 + timedelta(hours=2)), "OldImage": deployment("d-1", H0)}}
    assert partitions_for_record(DEPLOYMENTS, moved) == {H0.replace(tzinfo=UTC), (H0 + timedelta(hours=2)).replace(tzinfo=UTC)}
    assert TableNames().of("deployments") == "nephos-deployments"
    assert TableNames.from_env({"NEPHOS_DEPLOYMENTS_TABLE": "prod-deploys"}, ["deployments"]).of("deployments") == \
        "prod-deploys"


@pytest.mark.parametrize("name", SQL_FILES)
def test_the_extra_tables_sql_parses_as_snowflake(name: str):
    text = load_sql(name, DEPLOYMENTS.sql_package).replace("%(", "'").replace(")s", "'")
    for statement in split_statements(text):
        assert sqlglot.parse_one(statement, read="snowflake") is not None
